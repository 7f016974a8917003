/// Checks requests before anything is logged (docs/ARCHITECTURE.md, "Registry semantics"). Every failure is a
/// `RegistryError.invalidArgument` that says which field is wrong and what to send.
public enum RequestValidator {
    /// The longest id, name, node, network or address accepted, in UTF-8 bytes.
    public static let fieldBytesMax = 256

    /// Validates a Register and returns the service to record: the address filled with the
    /// caller's IP when it has no host or an unspecified one (`:80`, `0.0.0.0:80`, `[::]:80`).
    public static func validateRegister(_ service: Service, peer: Peer) throws(RegistryError) -> Service {
        try requireField("id", service.id)
        try requireField("name", service.name)
        try requireField("node", service.node)
        try checkField("network", service.network)
        try checkField("address", service.address)
        guard service.network == "tcp" || service.network == "udp" else {
            throw .invalidArgument(
                "network \"\(service.network)\" is not supported: send \"tcp\" or \"udp\"")
        }
        guard !service.address.isEmpty else {
            throw .invalidArgument("address is empty: send host:port, [ipv6]:port or :port")
        }
        let address = try ServiceAddress.parse(service.address)
        var filled = service
        filled.address = address.filled(with: peer.ip)
        return filled
    }

    /// Validates the fields of a Renew or Deregister (id and name required, node optional).
    public static func validateKey(id: String, name: String, node: String) throws(RegistryError) {
        try requireField("id", id)
        try requireField("name", name)
        try checkField("node", node)
    }

    /// Validates the name of a Get.
    public static func validateName(_ name: String) throws(RegistryError) {
        try requireField("name", name)
    }

    static func requireField(_ field: String, _ value: String) throws(RegistryError) {
        guard !value.isEmpty else {
            throw .invalidArgument("\(field) is empty: send a non-empty \(field) of at most \(fieldBytesMax) bytes")
        }
        try checkField(field, value)
    }

    static func checkField(_ field: String, _ value: String) throws(RegistryError) {
        let bytes = value.utf8.count
        guard bytes <= fieldBytesMax else {
            throw .invalidArgument("\(field) is \(bytes) bytes long: the limit is \(fieldBytesMax) bytes")
        }
        // Printable ASCII, what GOST sends, needs no decoding; anything else is read by scalar.
        var printableASCII = true
        for byte in value.utf8 where byte < 0x20 || byte >= 0x7F {
            printableASCII = false
            break
        }
        if printableASCII { return }
        for scalar in value.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                throw .invalidArgument(
                    "\(field) contains control character U+\(hex(scalar.value)): send printable UTF-8 text")
            }
            if scalar.value == 0xFFFD {
                throw .invalidArgument(
                    "\(field) contains U+FFFD (invalid UTF-8 in the request?): send valid UTF-8 text")
            }
        }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `ip:port`, or `[ip]:port` for IPv6; just the IP without a port; empty when unknown.
    public static func peerString(_ peer: Peer) -> String {
        guard let ip = peer.ip, !ip.isEmpty else { return "" }
        let host = ip.utf8.contains(UInt8(ascii: ":")) ? "[\(ip)]" : ip
        guard let port = peer.port else { return host }
        return "\(host):\(port)"
    }
}

/// A parsed `host:port`, `[v6]:port` or `:port`.
struct ServiceAddress: Equatable {
    /// The host without brackets; empty for `:port`.
    var host: String
    var isIPv6: Bool
    var port: Int

    /// True for no host, `0.0.0.0` and `::` (in any spelling of zeros).
    var isUnspecified: Bool {
        if host.isEmpty || host == "0.0.0.0" { return true }
        return isIPv6 && host.allSatisfy { $0 == "0" || $0 == ":" }
    }

    /// The address to record: the caller's IP in place of a missing or unspecified host.
    func filled(with peerIP: String?) -> String {
        guard isUnspecified, let ip = peerIP, !ip.isEmpty else { return rendered(host: host, ipv6: isIPv6) }
        return rendered(host: ip, ipv6: ip.contains(":"))
    }

    private func rendered(host: String, ipv6: Bool) -> String {
        ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static let hint = "send host:port, [ipv6]:port or :port with a port from 1 to 65535"

    static func parse(_ text: String) throws(RegistryError) -> ServiceAddress {
        let host: Substring
        let portText: Substring
        let isIPv6: Bool
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw .invalidArgument("address \"\(text)\" has no closing ]: \(hint)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw .invalidArgument("address \"\(text)\" has no :port after ]: \(hint)")
            }
            portText = rest.dropFirst()
            isIPv6 = true
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw .invalidArgument("address \"\(text)\": \"\(host)\" is not an IPv6 address: \(hint)")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw .invalidArgument("address \"\(text)\" has no port: \(hint)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            isIPv6 = false
            guard !host.contains(":") else {
                throw .invalidArgument("address \"\(text)\": put an IPv6 host in brackets: \(hint)")
            }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }) else {
                throw .invalidArgument(
                    "address \"\(text)\": host \"\(host)\" has characters a host name cannot have: \(hint)")
            }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portText), (1...65_535).contains(port)
        else {
            throw .invalidArgument("address \"\(text)\" has an invalid port \"\(portText)\": \(hint)")
        }
        return ServiceAddress(host: String(host), isIPv6: isIPv6, port: port)
    }
}
