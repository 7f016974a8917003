import FileStore
import Logging
import Registry
import SharedLog

/// Where the registry keeps its history: the embedded local log in the data directory (the
/// default), or a cluster's shared log in PostgreSQL (`--postgres URL`, docs/ARCHITECTURE.md,
/// "Cluster mode").
enum RegistryStorage: Sendable {
    case local(LocalLogOptions)
    case shared(url: String)

    /// Opens the store and the registry on it, replaying snapshot and log.
    func open(_ configuration: RegistryConfiguration, logger: Logger) async throws -> Registry {
        switch self {
        case .local(let options):
            return try await Registry.open(configuration, localLog: options, logger: logger)
        case .shared(let url):
            var shared = SharedLogConfiguration(url: url, instance: configuration.instance)
            // The Registry folds its own appends from `append`'s answer: its tail reads only the others'.
            shared.tailOmitsOwnAppends = true
            let store = try await SharedEventStore.open(shared, logger: logger)
            do {
                return try await Registry.open(
                    configuration, store: store, snapshots: SharedSnapshotStore(store: store), logger: logger)
            } catch {
                try? await store.close()
                throw error
            }
        }
    }

    /// A short description for the start-up log line.
    var summary: String {
        switch self {
        case .local(let options): return "local log, fsync \(options.fsync)"
        case .shared(let url): return "shared log \(SharedLogConfiguration.redacted(url))"
        }
    }
}
