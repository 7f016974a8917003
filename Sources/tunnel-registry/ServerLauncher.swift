#if canImport(Glibc)
import Glibc
#endif
import FileStore
import Foundation
import Logging
import Metrics
import PluginServer
import Prometheus
import Registry
import ServiceLifecycle
import UnixSignals

/// Boots logging and metrics, opens the registry and runs both fronts until SIGTERM/SIGINT.
struct ServerLauncher {
    let settings: ServerSettings

    func run() async throws {
        // A file-size limit (ulimit -f) must surface as EFBIG, answered 503, not kill us.
        signal(SIGXFSZ, SIG_IGN)
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        let logger = Logger(label: "tunnel-registry")

        try FileManager.default.createDirectory(
            atPath: settings.registry.dataDirectory, withIntermediateDirectories: true
        )
        let handle = RegistryHandle()
        let server = PluginServer(
            configuration: settings.server, registry: handle, metrics: ServerMetrics(), prometheus: prometheus,
            logger: logger
        ) { front, address in
            Self.announce("\(front) listening on \(address)")
            logger.info("listening", metadata: ["front": "\(front)", "address": "\(address)"])
        }
        let registryService = RegistryService(
            configuration: settings.registry, localLog: settings.localLog, handle: handle, logger: logger)
        let services = [ServiceGroupConfiguration.ServiceConfiguration(service: registryService, serviceName: "registry")]
            + (try server.makeServices()).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
            )
        )
        logger.info(
            "starting",
            metadata: [
                "data.dir": "\(settings.registry.dataDirectory)",
                "lease.ttl.us": "\(settings.registry.leaseTTLMicroseconds)",
                "fsync": "\(settings.localLog.fsync)",
                "token": "\(settings.server.token == nil ? "none" : "set")",
                "tls": "\(settings.server.tls == nil ? "off" : "on")",
            ]
        )
        try await group.run()
        Self.announce("stopped")
    }

    /// One line on stdout for operators and tests (`tunnel-registry: http listening on ...`).
    static func announce(_ message: String) {
        FileHandle.standardOutput.write(Data("tunnel-registry: \(message)\n".utf8))
    }
}

/// Opens the registry (replaying its log), publishes it to the fronts, runs its sweeper,
/// and on shutdown, after the fronts have stopped, closes it (final snapshot, fsync).
struct RegistryService: ServiceLifecycle.Service {
    let configuration: RegistryConfiguration
    let localLog: LocalLogOptions
    let handle: RegistryHandle
    let logger: Logger

    func run() async throws {
        let start = ContinuousClock.now
        let registry = try await Registry.open(configuration, localLog: localLog, logger: logger)
        handle.set(registry)
        let elapsed = ContinuousClock.now - start
        ServerLauncher.announce("ready after replay in \(elapsed)")
        logger.info("registry ready", metadata: ["replay.duration": "\(elapsed)"])
        do {
            try await cancelWhenGracefulShutdown {
                try await registry.run()
            }
        } catch is CancellationError {
            logger.debug("registry sweeper stopped")
        }
        try await registry.close()
        logger.info("registry closed")
    }
}
