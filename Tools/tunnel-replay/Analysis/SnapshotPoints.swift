import FileStore
import Registry

/// A snapshot's sequence and the time of its last record (from its header).
struct SnapshotPoint: Sendable, Equatable {
    var sequence: UInt64
    var timeMicroseconds: Int64
}

extension EventScan {
    /// The data directory's snapshots, oldest first, from their headers (unreadable ones left out).
    func snapshotPoints() -> [SnapshotPoint] {
        guard let snapshots = reader?.snapshots else { return [] }
        return ((try? snapshots.sequences()) ?? []).compactMap { snapshotPoint(snapshots, $0) }
    }

    /// The snapshots `SessionQuery.pieces` reads for a range from `since` to `until`: the last
    /// taken at or before `since` through the first taken after `until` (all after `since` when
    /// `until` is nil). Found by bisecting the sequences on their headers' times, so a year of
    /// snapshots costs a few header reads, not one each; all of them when a header read on the way
    /// fails.
    func snapshotPoints(since: Int64, until: Int64?) -> [SnapshotPoint] {
        guard let snapshots = reader?.snapshots, let sequences = try? snapshots.sequences() else { return [] }
        var low = 0
        var high = sequences.count
        while low < high {
            let middle = (low + high) / 2
            guard let point = snapshotPoint(snapshots, sequences[middle]) else { return snapshotPoints() }
            if point.timeMicroseconds <= since { low = middle + 1 } else { high = middle }
        }
        var points: [SnapshotPoint] = []
        for sequence in sequences[max(0, low - 1)...] {
            guard let point = snapshotPoint(snapshots, sequence) else { continue }
            points.append(point)
            if let until, point.timeMicroseconds > until { break }
        }
        return points
    }

    private func snapshotPoint(_ snapshots: SnapshotStore, _ sequence: UInt64) -> SnapshotPoint? {
        (try? snapshots.info(sequence: sequence)).map {
            SnapshotPoint(sequence: $0.sequence, timeMicroseconds: $0.lastTimeMicroseconds)
        }
    }

    /// The projection of the newest snapshot at or before `sequence` that loads (an empty one when
    /// none does); damaged snapshots are skipped with a warning.
    func newestSnapshot(atOrBeforeSequence sequence: UInt64) -> Projection {
        guard let snapshots = reader?.snapshots else { return Projection() }
        for candidate in ((try? snapshots.sequences()) ?? []).reversed() where candidate <= sequence {
            do {
                return try snapshots.load(sequence: candidate, deferringLapsed: true)
            } catch {
                Diagnostics.warn("snapshot \(candidate) skipped: \(error)")
            }
        }
        return Projection()
    }
}
