import EventLog
import FileStore
import Foundation
import Logging
import Metrics
import PluginServer
import Prometheus
import Registry
import ServiceLifecycle
import SharedLog
import Synchronization
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// Boots logging and metrics, checks the data directory, binds both listeners, then opens the
/// registry and runs until SIGTERM/SIGINT. Start-up in that order, so that "ready" means both
/// listeners are bound and the log is open, and a failure before it (a taken port, a data
/// directory in use) is one log line and exit 1 with nothing written.
struct ServerLauncher {
    let settings: ServerSettings

    func run() async throws {
        // A file-size limit (ulimit -f) must surface as EFBIG, answered 503, not kill us.
        signal(SIGXFSZ, SIG_IGN)
        settings.logFormat.bootstrap(level: settings.logLevel)
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        let logger = Logger(label: "tunnel-registry")
        let failure = StartupFailure(logger: logger)
        let registryConfiguration = settings.registry
        checkDataDirectory(registryConfiguration, failure: failure)

        let handle = RegistryHandle()
        let gate = ListenerGate(expected: [settings.server.http, settings.server.grpc].compactMap { $0 }.count)
        let server = PluginServer(
            configuration: settings.server,
            registry: handle,
            metrics: ServerMetrics(),
            prometheus: prometheus,
            logger: logger,
            onListening: { front, address in
                Self.announce("\(front) listening on \(address)")
                gate.bound()
            },
            onListenFailure: { front, address, error in
                failure.report(StartupFailure.listen(front: front, address: address, error: error))
            }
        )
        let startMetadata: Logger.Metadata = [
            "version": "\(TunnelRegistryVersion.text)",
            "data.dir": "\(registryConfiguration.dataDirectory)",
            "lease.ttl.us": "\(registryConfiguration.leaseTTLMicroseconds)",
            "storage": "\(settings.storage.summary)",
            "token": "\(settings.server.token == nil ? "none" : "set")",
            "tls": "\(settings.server.tls == nil ? "off" : "on")",
        ]
        let registryService = RegistryService(
            configuration: registryConfiguration,
            storage: settings.storage,
            handle: handle,
            gate: gate,
            failure: failure,
            startMetadata: startMetadata,
            logger: logger
        )
        let fronts: [any ServiceLifecycle.Service]
        do {
            fronts = try server.makeServices()
        } catch {
            failure.report("\(error)")
        }
        let services =
            [ServiceGroupConfiguration.ServiceConfiguration(service: registryService, serviceName: "registry")]
            + fronts.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        Self.announce("stopped")
    }

    /// Refuses a data directory another server writes to, or one that cannot be created, before
    /// anything else is started or printed. A missing directory is only checked here, not
    /// created: the log creates it once the listeners are bound, so a start that fails before
    /// that (a taken port) leaves nothing behind.
    private func checkDataDirectory(_ configuration: RegistryConfiguration, failure: StartupFailure) {
        let path = configuration.dataDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            if let blocker = Self.creationBlocker(path) {
                failure.report(
                    "cannot create the data directory \(path): \(blocker); "
                        + "check the path and its permissions, or pass another --data-dir"
                )
            }
            return
        }
        guard isDirectory.boolValue else {
            failure.report("the data directory \(path) is a file, not a directory; pass a directory as --data-dir")
        }
        do {
            try LogDirectoryLock.check(directory: configuration.logDirectory)
        } catch {
            failure.report(
                StartupFailure.open(
                    dataDirectory: configuration.dataDirectory,
                    logDirectory: configuration.logDirectory,
                    error: error
                )
            )
        }
    }

    /// Why `path` could not be created, judged by its nearest existing ancestor (not a
    /// directory, or not writable by this process); nil when it can be.
    static func creationBlocker(_ path: String) -> String? {
        var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) {
            let parent = ancestor.deletingLastPathComponent()
            if parent.path == ancestor.path { return nil }
            ancestor = parent
        }
        if !isDirectory.boolValue { return "\(ancestor.path) is a file, not a directory" }
        if access(ancestor.path, W_OK | X_OK) != 0 { return "\(ancestor.path) is not writable (\(String(cString: strerror(errno))))" }
        return nil
    }

    /// One line on stdout for operators and tests (`tunnel-registry: http listening on ...`);
    /// the log on stderr does not repeat these lines.
    static func announce(_ message: String) {
        FileHandle.standardOutput.write(Data("tunnel-registry: \(message)\n".utf8))
    }
}

/// Counts bound listeners; the registry opens once all enabled ones are bound.
final class ListenerGate: Sendable {
    private let remaining: Mutex<Int>

    init(expected: Int) {
        remaining = Mutex(expected)
    }

    func bound() {
        remaining.withLock { $0 -= 1 }
    }

    var isOpen: Bool { remaining.withLock { $0 <= 0 } }

    /// Returns once every listener is bound; throws `CancellationError` when cancelled first.
    func wait() async throws {
        while !isOpen {
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// Waits for the listeners, opens the registry (replaying its log), publishes it to the
/// fronts, runs its sweeper, and on shutdown, after the fronts have stopped, closes it (final
/// snapshot, fsync).
struct RegistryService: ServiceLifecycle.Service {
    let configuration: RegistryConfiguration
    let storage: RegistryStorage
    let handle: RegistryHandle
    let gate: ListenerGate
    let failure: StartupFailure
    /// The settings, logged once the listeners are bound (a failure before says only why).
    let startMetadata: Logger.Metadata
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await gate.wait() }
        } catch is CancellationError {
            return
        }
        logger.info("opening the data directory", metadata: startMetadata)
        let start = ContinuousClock.now
        let registry: Registry
        do {
            registry = try await storage.open(configuration, logger: logger)
        } catch let error as SharedLogError {
            failure.report("cannot open the shared log: \(error)")
        } catch {
            failure.report(
                StartupFailure.open(
                    dataDirectory: configuration.dataDirectory,
                    logDirectory: configuration.logDirectory,
                    error: error
                )
            )
        }
        handle.set(registry)
        ServerLauncher.announce("ready after replay in \(ContinuousClock.now - start)")
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
