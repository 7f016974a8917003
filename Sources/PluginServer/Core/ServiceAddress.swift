#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A service address `host:port` as GOST sends it; the host may be empty (`:80`).
struct ServiceAddress: Equatable {
    var host: String
    var port: Int

    /// Parses `host:port`, `:port`, `[v6]:port`; nil when the text is not one of those.
    static func parse(_ text: String) -> ServiceAddress? {
        guard let (host, portText) = HostPort.split(text), let port = Int(portText), (1...65_535).contains(port),
            portText.allSatisfy(\.isASCII)
        else { return nil }
        if text.hasPrefix("[") {
            guard isIPv6(host) else { return nil }
        } else if !host.isEmpty, !isHostName(host) {
            return nil
        }
        return ServiceAddress(host: host, port: port)
    }

    /// The address with an empty or unspecified host replaced by the caller's IP, formatted
    /// back to text (`[ip]:port` for IPv6). Unchanged when the caller's IP is unknown.
    func filled(withPeerIP peerIP: String?) -> String {
        let unspecified = host.isEmpty || host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0"
        let chosen = unspecified ? (peerIP ?? host) : host
        return chosen.contains(":") ? "[\(chosen)]:\(port)" : "\(chosen):\(port)"
    }

    private static func isHostName(_ host: String) -> Bool {
        host.utf8.count <= 253
            && host.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                    || byte == 0x2E || byte == 0x2D || byte == 0x5F
            }
    }

    private static func isIPv6(_ host: String) -> Bool {
        var storage = in6_addr()
        return inet_pton(AF_INET6, host, &storage) == 1
    }
}
