import EventLog
import FileStore
import Registry

/// The point `state` replays to.
enum StatePoint: Sendable, Equatable {
    /// Every record with a timestamp at or before this instant.
    case time(Int64)
    /// Every record up to and including this sequence; the instant is that record's time.
    case sequence(UInt64)
}

/// The projection as it stood at a point: the Registry's reader starts from the newest usable
/// snapshot at or before it and folds the tail with the server's own `Projection`.
struct StateQuery {
    let scan: EventScan
    var useSnapshots = true

    struct Result {
        var projection: Projection
        /// The instant `liveServices(at:)` is asked about.
        var instantMicroseconds: Int64
    }

    func projection(at point: StatePoint) throws(ReplayError) -> Result {
        let last = scan.lastSequence()
        let first = (try? scan.reader?.log.firstSequence()) ?? 1
        switch point {
        case .sequence(let sequence):
            guard sequence >= 1, sequence <= last else {
                let holds = last == 0 ? "the log is empty" : "it holds \(first) to \(last)"
                throw .usage("sequence \(sequence) is not in the log (\(holds)): pick one from `tunnel-replay events`")
            }
            let projection = try fold(throughSequence: sequence)
            return Result(projection: projection, instantMicroseconds: projection.lastTimeMicroseconds)
        case .time(let time):
            return Result(projection: try fold(throughTime: time), instantMicroseconds: time)
        }
    }

    private func fold(throughSequence sequence: UInt64) throws(ReplayError) -> Projection {
        guard useSnapshots else {
            try checkRetained(before: "sequence \(sequence)")
            return try replay { $0.sequence <= sequence }
        }
        guard let reader = scan.reader else {
            return try replay(from: { $0.lastSequence <= sequence }) { $0.sequence <= sequence }
        }
        do {
            return try reader.projection(atSequence: sequence, logger: Self.warningLogger)
        } catch let error as HistoryRemovedError {
            throw Self.removed(error, before: "sequence \(sequence)")
        } catch {
            throw .readFailed("replaying '\(scan.logPath)' to sequence \(sequence) failed: \(error); run verify")
        }
    }

    private func fold(throughTime time: Int64) throws(ReplayError) -> Projection {
        guard useSnapshots else {
            try checkRetained(before: Timestamp.format(time))
            return try replay { $0.timeMicroseconds <= time }
        }
        guard let reader = scan.reader else {
            return try replay(from: { $0.lastTimeMicroseconds <= time }) { $0.timeMicroseconds <= time }
        }
        do {
            return try reader.projection(atTime: time, logger: Self.warningLogger)
        } catch let error as HistoryRemovedError {
            throw Self.removed(error, before: Timestamp.format(time))
        } catch {
            throw .readFailed(
                "replaying '\(scan.logPath)' to \(Timestamp.format(time)) failed: \(error); run verify"
            )
        }
    }

    /// Folds from the first record while `keep` holds (no snapshot), or from the newest stored
    /// snapshot of the shared log that `usable` accepts (the data directory's reader does the
    /// same itself).
    private func replay(
        from usable: ((Projection) -> Bool)? = nil,
        while keep: (RegistryEvent) -> Bool
    ) throws(ReplayError) -> Projection {
        var projection = usable.flatMap { scan.postgres?.newestSnapshot(where: $0) } ?? Projection()
        try scan.scan(from: .sequence(projection.lastSequence + 1)) { event in
            guard keep(event) else { return false }
            projection.apply(event)
            return true
        }
        return projection
    }

    /// A full replay (no snapshot) needs the log to start at sequence 1.
    private func checkRetained(before point: String) throws(ReplayError) {
        do {
            try scan.reader?.checkRetained(foldingAfter: 0)
        } catch {
            throw Self.removed(error, before: point)
        }
    }

    /// The answer to a point before the retained span: exit 2, naming the retention and where
    /// the span starts.
    static func removed(_ error: HistoryRemovedError, before point: String) -> ReplayError {
        let from =
            error.replayableFromMicroseconds.map { "; state can be shown from \(Timestamp.format($0)) on" }
            ?? "; no snapshot covers the log's start (sequence \(error.firstSequence)): run verify"
        return .readFailed("history before \(point) was removed by retention \(error.retentionOption)\(from)")
    }

    static let warningLogger = StderrLogging.logger(label: "tunnel-replay.state")
}
