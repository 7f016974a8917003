import Registry
import Synchronization

/// Holds the registry once it has replayed its log. The fronts start listening before that
/// (so `/healthz` answers during replay) and answer 503 / UNAVAILABLE until it is set.
public final class RegistryHandle: Sendable {
    private let state = Mutex<Registry?>(nil)

    public init() {}

    /// Publishes the opened registry; from now on `/readyz` answers 200.
    public func set(_ registry: Registry) {
        state.withLock { $0 = registry }
    }

    /// The registry, or nil while the log is still being replayed.
    public var current: Registry? {
        state.withLock { $0 }
    }
}
