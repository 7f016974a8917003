import CoreMetrics
import GRPCCore
import GRPCNIOTransportCore
import GRPCNIOTransportHTTP2
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Prometheus
import ServiceLifecycle
import Synchronization

/// The GOST plugin server: an HTTP front (Hummingbird) and a gRPC front (grpc-swift-2)
/// over one registry. `makeServices()` returns service-lifecycle services; run them in a
/// `ServiceGroup` after the registry's own service so shutdown stops the fronts first.
public struct PluginServer: Sendable {
    /// Called once per listener with its front (`http`, `grpc`) and bound `host:port`.
    public typealias ListeningHandler = @Sendable (_ front: String, _ address: String) -> Void
    /// Called when a listener cannot start (its port is taken, say), with its front, the
    /// address it was given, and the error; its service then throws that error.
    public typealias ListenFailureHandler = @Sendable (_ front: String, _ address: ListenAddress, _ error: any Error) -> Void

    let configuration: PluginServerConfiguration
    let calls: SDCalls
    let prometheus: PrometheusCollectorRegistry?
    let logger: Logger
    let onListening: ListeningHandler
    let onListenFailure: ListenFailureHandler?

    /// Create the metrics (`ServerMetrics`) after bootstrapping `MetricsSystem`.
    public init(
        configuration: PluginServerConfiguration,
        registry: RegistryHandle,
        metrics: ServerMetrics,
        prometheus: PrometheusCollectorRegistry?,
        logger: Logger,
        onListening: @escaping ListeningHandler,
        onListenFailure: ListenFailureHandler? = nil
    ) {
        self.configuration = configuration
        self.calls = SDCalls(registry: registry, metrics: metrics, logger: logger)
        self.prometheus = prometheus
        self.logger = logger
        self.onListening = onListening
        self.onListenFailure = onListenFailure
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
        let bound = BoundFlag()
        // Hummingbird logs its own "Server started" line at info; the launcher announces each
        // listener once, so the framework speaks only from notice up. It also tags every
        // request's logger with an id: the handler renders that only for a line it logs.
        var frameworkLogger = logger
        frameworkLogger.logLevel = max(logger.logLevel, .notice)
        let application = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port),
                availableConnectionsDelegate: MaximumAvailableConnections(limits.httpConnectionsMax, logger: logger)
            ),
            onServerRunning: { channel in
                bound.set()
                onListening("http", channel.localAddress.map(Self.text) ?? address.description)
            },
            logger: frameworkLogger.deferringMetadata()
        )
        return ListenerService(front: "http", address: address, inner: application, bound: bound, onFailure: onListenFailure)
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
        let messageBytesMax = configuration.limits.grpcMessageBytesMax
        let transport = HTTP2ServerTransport.Posix(
            address: try Self.grpcSocketAddress(address),
            transportSecurity: security,
            config: .defaults { $0.rpc.maxRequestPayloadSize = messageBytesMax },
            eventLoopGroup: .singletonMultiThreadedEventLoopGroup
        )
        let interceptors: [any ServerInterceptor] = configuration.token.map { [TokenInterceptor(token: TokenCheck(token: $0))] } ?? []
        let server = GRPCServer(
            transport: transport, services: [SDService(calls: calls, logger: logger)], interceptors: interceptors
        )
        let bound = BoundFlag()
        let listener = GRPCListener(server: server, bound: bound, onListening: onListening)
        return ListenerService(front: "grpc", address: address, inner: listener, bound: bound, onFailure: onListenFailure)
    }

    private func metricsRenderer(_ prometheus: PrometheusCollectorRegistry) -> @Sendable () async -> String {
        let calls = self.calls
        return {
            if let count = await calls.liveServiceCount() {
                calls.metrics.liveServices.record(count)
            }
            if let totals = calls.logWriteStatistics() {
                calls.metrics.logWrites.update(to: totals)
            }
            var buffer: [UInt8] = []
            prometheus.emit(into: &buffer)
            return MetricsHelp.annotate(String(decoding: buffer, as: UTF8.self))
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
    let bound: BoundFlag
    let onListening: PluginServer.ListeningHandler

    func run() async throws {
        let listenFailure = Mutex<(any Error)?>(nil)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    // The RPC tasks inherit the preference: they run on the loops their streams use.
                    let loops = EventLoopTaskExecutor(group: .singletonMultiThreadedEventLoopGroup)
                    try await withTaskExecutorPreference(loops) { try await server.serve() }
                }
                let address: GRPCNIOTransportCore.SocketAddress
                do {
                    address = try await server.transport.listeningAddress
                } catch {
                    // serve() fails with the reason (the port is taken, say); this error only
                    // says that there is no address. Let serve()'s error end the group.
                    listenFailure.withLock { $0 = error }
                    return
                }
                bound.set()
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
        if let error = listenFailure.withLock({ $0 }) { throw error }
    }
}

/// A listener service that reports a failure to start (before it was bound) to the
/// launcher, which says what went wrong in one line; failures after that are rethrown only.
struct ListenerService: Service {
    let front: String
    let address: ListenAddress
    let inner: any Service
    let bound: BoundFlag
    let onFailure: PluginServer.ListenFailureHandler?

    func run() async throws {
        do {
            try await inner.run()
        } catch {
            if !bound.isSet { onFailure?(front, address, error) }
            throw error
        }
    }
}

/// Set once a listener's socket is bound.
final class BoundFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() {
        value.store(true, ordering: .releasing)
    }

    var isSet: Bool { value.load(ordering: .acquiring) }
}
