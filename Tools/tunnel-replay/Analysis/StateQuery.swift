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
        switch point {
        case .sequence(let sequence):
            guard sequence >= 1, sequence <= last else {
                let holds = last == 0 ? "the log is empty" : "it holds 1 to \(last)"
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
            return try replay { $0.sequence <= sequence }
        }
        guard let reader = scan.reader else {
            return try replay(from: { $0.lastSequence <= sequence }) { $0.sequence <= sequence }
        }
        do {
            return try reader.projection(atSequence: sequence, logger: Self.warningLogger)
        } catch {
            throw .readFailed("replaying '\(scan.logPath)' to sequence \(sequence) failed: \(error); run verify")
        }
    }

    private func fold(throughTime time: Int64) throws(ReplayError) -> Projection {
        guard useSnapshots else {
            return try replay { $0.timeMicroseconds <= time }
        }
        guard let reader = scan.reader else {
            return try replay(from: { $0.lastTimeMicroseconds <= time }) { $0.timeMicroseconds <= time }
        }
        do {
            return try reader.projection(atTime: time, logger: Self.warningLogger)
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

    static let warningLogger = StderrLogging.logger(label: "tunnel-replay.state")
}
