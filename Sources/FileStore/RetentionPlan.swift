/// Which snapshots and log segments a retention pass may remove (README, "Data directory").
///
/// The retained span must stay replayable from its start: `state --at T` and the server's start
/// need a snapshot at or before T and every record after that snapshot. So the plan keeps an
/// **anchor**, the newest snapshot at or before the cutoff (now − retention), and lets the log
/// lose only segments that end at or before the anchor's sequence. Snapshots older than the
/// anchor go; between the anchor and the newest `keepNewest` ones, snapshots are thinned to one per
/// `retention / 8`, so one is always at most that (plus a snapshot interval) before the cutoff
/// while their number stays bounded (about 9 + `keepNewest`).
///
/// Pure: the caller reads the snapshot headers and applies the plan.
public struct RetentionPlan: Sendable, Equatable {
    /// The snapshot the retained span starts from; nil while none is at or before the cutoff.
    public var anchor: SnapshotInfo?
    /// Snapshots to delete, oldest first; never the anchor, never one of the newest `keepNewest`.
    public var snapshotsToDelete: [UInt64]
    /// Log segments may go when they end at or before this sequence (the anchor's)...
    public var segmentsThroughSequence: UInt64?
    /// ...and their last record is before this instant (the cutoff).
    public var cutoffMicroseconds: Int64

    /// The plan for `snapshots` (any order) at `nowMicroseconds`.
    public init(
        snapshots: [SnapshotInfo], retentionMicroseconds: Int64, nowMicroseconds: Int64, keepNewest: Int
    ) {
        precondition(retentionMicroseconds > 0, "retention \(retentionMicroseconds) µs must be positive")
        let sorted = snapshots.sorted { $0.sequence < $1.sequence }
        cutoffMicroseconds = nowMicroseconds - retentionMicroseconds
        let cutoff = cutoffMicroseconds
        let anchorIndex = sorted.lastIndex { $0.lastTimeMicroseconds <= cutoff }
        anchor = anchorIndex.map { sorted[$0] }
        segmentsThroughSequence = anchor?.sequence
        let protectedFrom = max(0, sorted.count - max(1, keepNewest))
        let chainStart = anchorIndex ?? 0
        var delete = sorted.prefix(min(chainStart, protectedFrom)).map(\.sequence)
        let spacing = max(1, retentionMicroseconds / 8)
        var lastKept = sorted.indices.contains(chainStart) ? sorted[chainStart].lastTimeMicroseconds : 0
        for index in sorted.indices where index > chainStart && index < protectedFrom {
            if sorted[index].lastTimeMicroseconds >= lastKept + spacing {
                lastKept = sorted[index].lastTimeMicroseconds
            } else {
                delete.append(sorted[index].sequence)
            }
        }
        snapshotsToDelete = delete
    }
}
