/// Certificate chain and private key (PEM files) that secure both listeners.
public struct TLSFiles: Sendable, Equatable {
    public var certificatePath: String
    public var privateKeyPath: String

    public init(certificatePath: String, privateKeyPath: String) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
    }
}

/// What the two fronts listen on and how they check callers (README.md, "Running the server").
public struct PluginServerConfiguration: Sendable {
    /// The HTTP listener (GOST `type: http`, plus health and metrics); nil when `off`.
    public var http: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 8080)
    /// The path GOST's HTTP plugin `addr` points at.
    public var httpPath: String = "/sd"
    /// The gRPC listener (GOST `type: grpc`); nil when `off`.
    public var grpc: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 8000)
    /// The shared secret GOST sends (`token:` in its plugin config); nil accepts anyone.
    public var token: String?
    /// TLS for both listeners; nil serves plaintext.
    public var tls: TLSFiles?
    public var limits = RequestLimits()

    public init() {}

    /// Refuses settings that would expose an unauthenticated registry or cannot work.
    public func validate(allowUnauthenticated: Bool) throws(ConfigurationError) {
        if http == nil && grpc == nil {
            throw ConfigurationError("both --http and --grpc are off; enable at least one listener")
        }
        guard httpPath.hasPrefix("/"), !["/healthz", "/readyz", "/metrics"].contains(httpPath) else {
            throw ConfigurationError(
                "--http-path \(httpPath) must start with / and differ from /healthz, /readyz and /metrics; e.g. /sd"
            )
        }
        if token?.isEmpty == true {
            throw ConfigurationError("the token is empty; pass a non-empty --token or --token-file")
        }
        let exposed = [http, grpc].compactMap { $0 }.filter { !$0.isLoopback }
        if token == nil, !allowUnauthenticated, let first = exposed.first {
            throw ConfigurationError(
                "refusing to listen on non-loopback address \(first) without a token: anyone who can reach it "
                    + "could register tunnels. Pass --token/--token-file, bind 127.0.0.1, "
                    + "or pass --allow-unauthenticated if the network is trusted"
            )
        }
    }
}
