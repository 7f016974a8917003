import Logging
import Registry

/// The shared log is a Registry event store: every requirement is implemented by
/// `SharedEventStore` itself (append, read, durableSequence, recover, close, isShared,
/// records(after:), leadsSweeper, appendAsLeader).
extension SharedEventStore: RegistryEventStore {}

/// The Registry's snapshots in the database: the projection's plain bytes, enveloped.
extension SharedSnapshotStore: RegistrySnapshotStore {
    /// The newest snapshot at or before `sequence` that opens and decodes (damaged ones are
    /// logged and skipped); nil when none (the Registry then replays the whole log).
    public func loadNewest(atOrBefore sequence: UInt64, logger: Logger) async -> Projection? {
        await loadNewest(atOrBefore: sequence, logger: logger) { try Projection(snapshotBytes: $0) }
    }

    /// Stores the projection at its last sequence and keeps the newest `keep`; returns the
    /// bytes stored (0 when this instance does not lead the sweeper: the leader writes them).
    public func write(_ projection: Projection, keep: Int) async throws -> Int {
        try await write(plain: projection.snapshotBytes(), sequence: projection.lastSequence, keep: keep)
    }
}

extension SharedLogReader {
    /// The projection stored as the snapshot at exactly `sequence`.
    public func snapshot(atSequence sequence: UInt64) async throws -> Projection {
        try Projection(snapshotBytes: try await snapshotBytes(atSequence: sequence))
    }
}
