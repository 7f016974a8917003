import CoreMetrics
import GRPCCore
import GRPCNIOTransportCore
import GRPCNIOTransportHTTP2
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Prometheus
import ServiceLifecycle

/// The GOST plugin server: an HTTP front (Hummingbird) and a gRPC front (grpc-swift-2)
/// over one registry. `makeServices()` returns service-lifecycle services; run them in a
/// `ServiceGroup` after the registry's own service so shutdown stops the fronts first.
public struct PluginServer: Sendable {
    /// Called once per listener with its front (`http`, `grpc`) and bound `host:port`.
    public typealias ListeningHandler = @Sendable (_ front: String, _ address: String) -> Void

    let configuration: PluginServerConfiguration
    let calls: SDCalls
    let prometheus: PrometheusCollectorRegistry?
    let logger: Logger
    let onListening: ListeningHandler

    /// Create the metrics (`ServerMetrics`) after bootstrapping `MetricsSystem`.
    public init(
        configuration: PluginServerConfiguration,
        registry: RegistryHandle,
        metrics: ServerMetrics,
        prometheus: PrometheusCollectorRegistry?,
        logger: Logger,
        onListening: @escaping ListeningHandler
    ) {
        self.configuration = configuration
        self.calls = SDCalls(registry: registry, limits: configuration.limits, metrics: metrics, logger: logger)
        self.prometheus = prometheus
        self.logger = logger
        self.onListening = onListening
    }

    /// The enabled listeners as services. Throws when the TLS files cannot be loaded.
    public func makeServices() throws -> [any Service] {
        var services: [any Service] = []
        if let grpc = configuration.grpc {
            services.append(try makeGRPC(grpc))
        }
        if let http = configuration.http {
            services.append(try makeHTTP(http))
        }
        return services
    }

    private func makeHTTP(_ address: ListenAddress) throws -> any Service {
        let responder = SDResponder(
            path: configuration.httpPath, calls: calls, token: configuration.token.map(TokenCheck.init),
            limits: configuration.limits, metricsText: prometheus.map(metricsRenderer), logger: logger
        )
        let limits = configuration.limits
        let http1 = HTTPServerBuilder.http1(
            configuration: .init(idleTimeout: .seconds(limits.httpIdleTimeoutSeconds))
        )
        let server: HTTPServerBuilder
        if let tls = configuration.tls {
            server = try .tls(http1, tlsConfiguration: try Self.nioTLS(tls))
        } else {
            server = http1
        }
        let onListening = self.onListening
        return Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port),
                availableConnectionsDelegate: MaximumAvailableConnections(limits.httpConnectionsMax, logger: logger)
            ),
            onServerRunning: { channel in
                onListening("http", channel.localAddress.map(Self.text) ?? address.description)
            },
            logger: logger
        )
    }

    private func makeGRPC(_ address: ListenAddress) throws -> any Service {
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let tls = configuration.tls {
            security = .tls(
                certificateChain: [.file(path: tls.certificatePath, format: .pem)],
                privateKey: .file(path: tls.privateKeyPath, format: .pem)
            )
        } else {
            security = .plaintext
        }
        let bodyBytesMax = configuration.limits.bodyBytesMax
        let transport = HTTP2ServerTransport.Posix(
            address: try Self.grpcSocketAddress(address),
            transportSecurity: security,
            config: .defaults { $0.rpc.maxRequestPayloadSize = bodyBytesMax }
        )
        let interceptors: [any ServerInterceptor] = configuration.token.map { [TokenInterceptor(token: TokenCheck(token: $0))] } ?? []
        let server = GRPCServer(
            transport: transport, services: [SDService(calls: calls, logger: logger)], interceptors: interceptors
        )
        return GRPCListener(server: server, onListening: onListening)
    }

    private func metricsRenderer(_ prometheus: PrometheusCollectorRegistry) -> @Sendable () async -> String {
        let calls = self.calls
        return {
            if let count = await calls.liveServiceCount() {
                calls.metrics.liveServices.record(count)
            }
            var buffer: [UInt8] = []
            prometheus.emit(into: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
    }

    static func nioTLS(_ files: TLSFiles) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: files.privateKeyPath, format: .pem)
            return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        } catch {
            throw ConfigurationError(
                "cannot load TLS files --tls-cert \(files.certificatePath) --tls-key \(files.privateKeyPath): \(error); "
                    + "pass a PEM certificate chain and its PEM private key"
            )
        }
    }

    /// gRPC binds numeric addresses only: `localhost` becomes 127.0.0.1, names are refused.
    static func grpcSocketAddress(_ address: ListenAddress) throws -> GRPCNIOTransportCore.SocketAddress {
        if address.host == "localhost" { return .ipv4(host: "127.0.0.1", port: address.port) }
        if address.host.contains(":") { return .ipv6(host: address.host, port: address.port) }
        let parts = address.host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else {
            throw ConfigurationError("--grpc \(address) needs a numeric IP host such as 127.0.0.1 or [::1]")
        }
        return .ipv4(host: address.host, port: address.port)
    }

    static func text(_ address: NIOCore.SocketAddress) -> String {
        let ip = address.ipAddress ?? "?"
        let port = address.port ?? 0
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// Runs a gRPC server as a service: serves until graceful shutdown, then lets in-flight
/// RPCs finish.
struct GRPCListener: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let onListening: PluginServer.ListeningHandler

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                let address = try await server.transport.listeningAddress
                if let ipv4 = address.ipv4 {
                    onListening("grpc", "\(ipv4.host):\(ipv4.port)")
                } else if let ipv6 = address.ipv6 {
                    onListening("grpc", "[\(ipv6.host)]:\(ipv6.port)")
                } else {
                    onListening("grpc", "\(address)")
                }
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
