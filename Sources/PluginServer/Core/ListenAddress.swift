/// A listener address as given to `--http` / `--grpc`: `HOST:PORT` or `[IPV6]:PORT`.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host to bind, without brackets (`127.0.0.1`, `::1`, `0.0.0.0`).
    public var host: String
    /// The port to bind; 0 lets the kernel pick one (the bound port is logged).
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; returns nil for `off`. Throws a message naming the bad value.
    public static func parse(_ text: String, option: String) throws(ConfigurationError) -> ListenAddress? {
        if text == "off" { return nil }
        let example = "send HOST:PORT such as 127.0.0.1:8080 or [::1]:8080, or off"
        guard let (host, port) = HostPort.split(text), !host.isEmpty, let portNumber = Int(port),
            (0...65_535).contains(portNumber)
        else {
            throw ConfigurationError("\(option) \(text) is not a listen address; \(example)")
        }
        return ListenAddress(host: host, port: portNumber)
    }

    /// True when the address only accepts connections from this machine.
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// A configuration value that cannot be used; the message says which and what to send.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Splits `host:port`, `[v6]:port` and `:port` into host (brackets removed) and port text.
enum HostPort {
    static func split(_ text: String) -> (host: String, port: Substring)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let afterClose = text.index(after: close)
            guard afterClose < text.endIndex, text[afterClose] == ":" else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            return (host, text[text.index(after: afterClose)...])
        }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = String(text[..<colon])
        if host.contains(":") { return nil }
        return (host, text[text.index(after: colon)...])
    }
}
