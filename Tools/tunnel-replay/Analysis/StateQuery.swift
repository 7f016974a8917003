import EventLog
import Registry

/// The point `state` replays to.
enum StatePoint: Sendable, Equatable {
    /// Every record with a timestamp at or before this instant.
    case time(Int64)
    /// Every record up to and including this sequence; the instant is that record's time.
    case sequence(UInt64)
}

/// The projection as it stood at a point: the newest usable snapshot at or before it, plus the
/// folded tail. The fold is the Registry's own `Projection`, the code the server runs.
struct StateQuery {
    let directory: DataDirectory
    let scan: EventScan
    var useSnapshots = true

    struct Result {
        var projection: Projection
        /// The instant `liveServices(at:)` is asked about.
        var instantMicroseconds: Int64
        /// The snapshot the fold started from, nil for a full replay.
        var snapshotSequence: UInt64?
        var foldedEvents: Int
    }

    func projection(at point: StatePoint) throws(ReplayError) -> Result {
        let (limit, instant) = try resolve(point)
        var (projection, snapshot) = startingProjection(atOrBefore: limit)
        var folded = 0
        if limit > projection.lastSequence {
            try scan.scan(from: .sequence(projection.lastSequence + 1)) { event in
                guard event.sequence <= limit else { return false }
                projection.apply(event)
                folded += 1
                return true
            }
        }
        return Result(
            projection: projection, instantMicroseconds: instant, snapshotSequence: snapshot, foldedEvents: folded)
    }

    /// The last sequence to fold and the instant to ask about.
    private func resolve(_ point: StatePoint) throws(ReplayError) -> (UInt64, Int64) {
        switch point {
        case .sequence(let sequence):
            var cursor = try scan.makeCursor(.sequence(sequence))
            guard let record = try next(&cursor), record.sequence == sequence else {
                throw .usage(
                    "sequence \(sequence) is not in the log (it ends at \(lastSequence())): pick a sequence"
                        + " from `tunnel-replay events`")
            }
            return (sequence, record.timestampMicroseconds)
        case .time(let time):
            let (after, overflow) = time.addingReportingOverflow(1)
            guard !overflow else { return (lastSequence(), time) }
            var cursor = try scan.makeCursor(.time(after))
            guard let record = try next(&cursor) else { return (lastSequence(), time) }
            return (record.sequence - 1, time)
        }
    }

    private func next(_ cursor: inout LogCursor) throws(ReplayError) -> LogRecord? {
        do {
            return try cursor.next()
        } catch {
            throw .readFailed("reading '\(scan.logPath)' failed: \(error); run verify to locate the damage")
        }
    }

    private func lastSequence() -> UInt64 {
        let segments = (try? scan.reader.segments()) ?? []
        return segments.last(where: { $0.lastSequence > 0 })?.lastSequence ?? 0
    }

    /// The newest snapshot at or before `limit` that loads; an empty projection when none does.
    private func startingProjection(atOrBefore limit: UInt64) -> (Projection, UInt64?) {
        guard useSnapshots else { return (Projection(), nil) }
        let store = directory.snapshotStore()
        let sequences: [UInt64]
        do {
            sequences = try store.sequences()
        } catch {
            Diagnostics.warn("cannot list snapshots in '\(directory.snapshotsPath)': \(error); replaying the whole log")
            return (Projection(), nil)
        }
        for sequence in sequences.filter({ $0 <= limit && $0 > 0 }).sorted(by: >) {
            do {
                return (try store.load(sequence: sequence), sequence)
            } catch {
                Diagnostics.warn("snapshot \(sequence) is unusable (\(error)); trying an older one")
            }
        }
        return (Projection(), nil)
    }
}
