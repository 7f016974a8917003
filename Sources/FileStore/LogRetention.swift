import EventLog
import Logging
import Metrics
import Registry

/// What one retention pass did.
public struct RetentionReport: Sendable, Equatable {
    /// The plan the pass applied.
    public var plan: RetentionPlan
    /// The log segments removed.
    public var log: RetentionOutcome
    /// The snapshots deleted, oldest first.
    public var snapshotsDeleted: [UInt64]
}

/// Applies `--retention` to a data directory: removes the log segments older than the retention
/// that a snapshot covers, and thins the snapshots (`RetentionPlan`; README, "Data directory").
/// Runs after each snapshot the Registry writes (`RetainingSnapshotStore`).
public struct LogRetention: Sendable {
    /// How long history is kept, in microseconds.
    public let retentionMicroseconds: Int64
    let snapshots: SnapshotStore
    let log: EventLogStore
    let clock: @Sendable () -> Int64
    let logger: Logger
    private let removedSegments = Counter(label: "tunnel_registry_retention_removed_segments_total")
    private let removedBytes = Counter(label: "tunnel_registry_retention_removed_bytes_total")

    /// A retention of `retentionMicroseconds` over `snapshots` and `log`; `clock` gives "now".
    public init(
        retentionMicroseconds: Int64, snapshots: SnapshotStore, log: EventLogStore,
        clock: @escaping @Sendable () -> Int64, logger: Logger
    ) {
        precondition(retentionMicroseconds > 0, "retention \(retentionMicroseconds) µs must be positive")
        self.retentionMicroseconds = retentionMicroseconds
        self.snapshots = snapshots
        self.log = log
        self.clock = clock
        self.logger = logger
    }

    /// One pass: segments first (only once the anchor snapshot loads), then snapshots. Keeps the
    /// newest `keepNewest` snapshots whatever their age.
    @discardableResult
    public func run(keepNewest: Int) async throws -> RetentionReport {
        let infos = try snapshots.sequences().compactMap { try? snapshots.info(sequence: $0) }
        let plan = RetentionPlan(
            snapshots: infos, retentionMicroseconds: retentionMicroseconds, nowMicroseconds: clock(),
            keepNewest: keepNewest)
        var outcome = RetentionOutcome()
        if let anchor = plan.anchor, let through = plan.segmentsThroughSequence {
            // A damaged anchor would leave the retained span without a start: remove nothing then.
            _ = try snapshots.load(sequence: anchor.sequence)
            try snapshots.recordRetention(retentionMicroseconds)
            outcome = try await log.removeSegments(throughSequence: through, endingBefore: plan.cutoffMicroseconds)
        }
        for sequence in plan.snapshotsToDelete {
            try FileIO.unlinkFile(snapshots.path(for: sequence))
        }
        if !outcome.removedSegments.isEmpty {
            removedSegments.increment(by: outcome.removedSegments.count)
            removedBytes.increment(by: outcome.removedBytes)
            logger.info(
                "retention removed old log segments",
                metadata: [
                    "log.segments_removed": "\(outcome.removedSegments.count)",
                    "log.bytes_removed": "\(outcome.removedBytes)",
                    "log.first_sequence": "\((outcome.removedSegments.last?.lastSequence ?? 0) + 1)",
                    "snapshot.anchor": "\(plan.anchor?.sequence ?? 0)",
                ])
        }
        return RetentionReport(plan: plan, log: outcome, snapshotsDeleted: plan.snapshotsToDelete)
    }
}

/// The snapshot store of a registry with `--retention`: writes each snapshot, then runs a
/// retention pass (which also prunes the snapshots, instead of keeping only the newest few).
public struct RetainingSnapshotStore: RegistrySnapshotStore {
    public let snapshots: SnapshotStore
    public let retention: LogRetention

    public init(snapshots: SnapshotStore, retention: LogRetention) {
        self.snapshots = snapshots
        self.retention = retention
    }

    public func loadNewest(atOrBefore sequence: UInt64, logger: Logger) async -> Projection? {
        snapshots.loadNewestValid(atOrBefore: sequence, logger: logger)
    }

    public func write(_ projection: Projection, keep: Int) async throws -> Int {
        let bytes = try await snapshots.write(projection, keep: .max)
        do {
            try await retention.run(keepNewest: keep)
        } catch {
            retention.logger.warning(
                "retention pass failed; old history stays until the next snapshot retries",
                metadata: ["error": "\(error)"])
        }
        return bytes
    }
}
