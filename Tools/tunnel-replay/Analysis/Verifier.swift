import EventLog
import FileStore
import Registry

/// One problem `verify` found, located as precisely as the failing layer allows.
struct VerifyProblem: Sendable, Equatable {
    /// Relative to the data directory: `log/<segment>.seg` or `snapshots/<sequence>.snap`.
    var file: String
    var offset: Int?
    var sequence: UInt64?
    var problem: String

    static let columns = ["file", "offset", "sequence", "problem"]

    var cells: [Cell] {
        [
            .text(file), offset.map { Cell.int(Int64($0)) } ?? .null, sequence.map { Cell.int(Int64($0)) } ?? .null,
            .text(problem),
        ]
    }
}

/// Checks a data directory: the log's own checks (framing, checksums, seals, tallies), sequence
/// continuity, that every record decodes, that every snapshot equals the fold of the log up to
/// its sequence (the server's `Projection`, compared with `==`), and that each segment's tally
/// counts its records by kind (`TallyCheck`).
struct Verifier {
    let directory: DataDirectory
    let scan: EventScan

    struct Summary {
        var problems: [VerifyProblem] = []
        var segments = 0
        var records = 0
        var snapshots = 0
    }

    func run() -> Summary {
        if let healthy = quickRun() { return healthy }
        return fullRun()
    }

    /// The check of a healthy log at the cost of one decompression: the log's own checks without
    /// decompressing, then every record decoded and folded on worker threads. Nil when anything
    /// is found, so `fullRun` reports it exactly as it always has.
    private func quickRun() -> Summary? {
        guard let log = scan.reader?.log, log.verify(decode: false).isEmpty,
            let segments = try? log.segments(), continuityProblems(segments).isEmpty
        else { return nil }
        var summary = Summary()
        summary.segments = segments.count
        guard let checked = try? parallelRun(segments: segments, summary: summary), checked.problems.isEmpty else {
            return nil
        }
        return checked
    }

    /// Every check with each problem located: the log's own checks (decompressing every frame),
    /// then the records and snapshots, in parallel when the log is sound, else in order.
    private func fullRun() -> Summary {
        var summary = Summary()
        guard let reader = scan.reader else { preconditionFailure("Verifier checks a data directory's scan") }
        let log = reader.log
        let logProblems = log.verify().map { problem(from: $0) }
        summary.problems += logProblems
        let segments: [SegmentInfo]
        do {
            segments = try log.segments()
        } catch {
            summary.problems.append(problem(from: error))
            return summary
        }
        summary.segments = segments.count
        summary.problems += continuityProblems(segments)
        if summary.problems.isEmpty, let fast = try? parallelRun(segments: segments, summary: summary) {
            return fast
        }
        let damaged = Set(logProblems.map(\.file))
        let snapshots = loadSnapshots(&summary)
        var fold = Fold(snapshots: snapshots)
        if let first = segments.first?.firstSequence, first > 1 {
            // Retention removed the start of the log: fold from the oldest snapshot covering it.
            let base = snapshots.keys.sorted().first { $0 + 1 >= first }
            fold.projection = base.flatMap { snapshots[$0] } ?? Projection()
            fold.broken = base == nil
            fold.compared.formUnion(snapshots.keys.filter { $0 <= (base ?? 0) })
        }
        for segment in segments where segment.lastSequence > 0 {
            guard !damaged.contains("log/" + segment.fileName) else {
                fold.broken = true
                continue
            }
            check(segment, log: log, fold: &fold, summary: &summary)
        }
        for sequence in snapshots.keys.sorted() where !fold.compared.contains(sequence) && !fold.broken {
            summary.problems.append(
                VerifyProblem(
                    file: directory.snapshotFile(sequence),
                    offset: nil,
                    sequence: sequence,
                    problem: "snapshot is at sequence \(sequence) but the log ends at \(fold.projection.lastSequence)"
                )
            )
        }
        return summary
    }

    /// The records and snapshots of a structurally sound log, checked on worker threads
    /// (`SnapshotIntervals`); snapshots past the log's end are reported as the full check does.
    private func parallelRun(segments: [SegmentInfo], summary: Summary) throws(ReplayError) -> Summary {
        var summary = summary
        let lastSequence = segments.last(where: { $0.lastSequence > 0 })?.lastSequence ?? 0
        let sequences: [UInt64]
        do {
            sequences = try directory.snapshotStore().sequences()
        } catch {
            throw .unreadable("cannot list snapshots: \(error)")
        }
        summary.snapshots = sequences.count
        let outcome = try SnapshotIntervals(directory: directory, scan: scan)
            .run(
                snapshots: sequences.filter { $0 <= lastSequence },
                firstSequence: segments.first?.firstSequence ?? 1, lastSequence: lastSequence,
                tally: TallyCheck(segments: segments))
        summary.records = outcome.records
        summary.problems += outcome.problems
        for sequence in sequences where sequence > lastSequence {
            summary.problems.append(
                VerifyProblem(
                    file: directory.snapshotFile(sequence), offset: nil, sequence: sequence,
                    problem: "snapshot is at sequence \(sequence) but the log ends at \(lastSequence)"))
        }
        return summary
    }

    /// The running fold of the log, compared with each snapshot as its sequence passes.
    private struct Fold {
        var projection = Projection()
        let snapshots: [UInt64: Projection]
        var compared: Set<UInt64> = []
        /// A damaged or missing stretch was skipped: later snapshots cannot be compared.
        var broken = false
    }

    private func check(_ segment: SegmentInfo, log: EventLogReader, fold: inout Fold, summary: inout Summary) {
        let file = "log/" + segment.fileName
        var expected = segment.firstSequence
        var kinds = [Int](repeating: 0, count: RecordTally.slotCount)
        defer {
            if let problem = TallyCheck.problem(segment, records: kinds[...]) { summary.problems.append(problem) }
        }
        var cursor: LogCursor
        do {
            cursor = try log.cursor(fromSequence: segment.firstSequence)
        } catch {
            summary.problems.append(problem(from: error, file: file, sequence: expected))
            fold.broken = true
            return
        }
        while expected <= segment.lastSequence {
            let record: LogRecord
            do {
                guard let next = try cursor.next() else { break }
                record = next
            } catch {
                summary.problems.append(problem(from: error, file: file, sequence: expected))
                fold.broken = true
                return
            }
            if record.sequence != expected {
                summary.problems.append(
                    VerifyProblem(
                        file: file,
                        offset: nil,
                        sequence: record.sequence,
                        problem: "sequence \(record.sequence) follows \(expected - 1): records are missing"
                    )
                )
                fold.broken = true
            }
            expected = record.sequence + 1
            summary.records += 1
            record.payload.withUnsafeBytes { kinds[EventCodec.tallySlot($0)] += 1 }
            let event: RegistryEvent
            do {
                event = try EventCodec.decode(record)
            } catch {
                summary.problems.append(
                    VerifyProblem(file: file, offset: nil, sequence: record.sequence, problem: "\(error)")
                )
                fold.broken = true
                continue
            }
            guard event.sequence > fold.projection.lastSequence else { continue }
            fold.projection.apply(event)
            if !fold.broken, let snapshot = fold.snapshots[event.sequence] {
                fold.compared.insert(event.sequence)
                if !snapshot.isSnapshot(of: fold.projection) {
                    summary.problems.append(
                        VerifyProblem(
                            file: directory.snapshotFile(event.sequence),
                            offset: nil,
                            sequence: event.sequence,
                            problem: "snapshot differs from the fold of the log up to sequence \(event.sequence)"
                        )
                    )
                }
            }
        }
    }

    /// Loads every snapshot; damaged ones become problems.
    private func loadSnapshots(_ summary: inout Summary) -> [UInt64: Projection] {
        let store = directory.snapshotStore()
        let sequences: [UInt64]
        do {
            sequences = try store.sequences()
        } catch {
            summary.problems.append(
                VerifyProblem(file: "snapshots", offset: nil, sequence: nil, problem: "cannot list snapshots: \(error)")
            )
            return [:]
        }
        summary.snapshots = sequences.count
        var loaded: [UInt64: Projection] = [:]
        for sequence in sequences {
            do {
                loaded[sequence] = try store.load(sequence: sequence)
            } catch let error as SnapshotError {
                summary.problems.append(
                    VerifyProblem(
                        file: directory.snapshotFile(sequence),
                        offset: nil,
                        sequence: sequence,
                        problem: error.reason
                    )
                )
            } catch {
                summary.problems.append(
                    VerifyProblem(
                        file: directory.snapshotFile(sequence),
                        offset: nil,
                        sequence: sequence,
                        problem: "cannot read: \(error)"
                    )
                )
            }
        }
        return loaded
    }

    /// Gaps and overlaps between consecutive segments, from their headers.
    private func continuityProblems(_ segments: [SegmentInfo]) -> [VerifyProblem] {
        var problems: [VerifyProblem] = []
        var previous: SegmentInfo?
        for segment in segments where segment.lastSequence > 0 {
            if let previous, segment.firstSequence != previous.lastSequence + 1 {
                problems.append(
                    VerifyProblem(
                        file: "log/" + segment.fileName,
                        offset: 0,
                        sequence: segment.firstSequence,
                        problem: "segment starts at sequence \(segment.firstSequence) but \(previous.fileName)"
                            + " ends at \(previous.lastSequence)"
                    )
                )
            }
            previous = segment
        }
        return problems
    }

    /// A problem from any error, located by the log's error when it carries a place.
    private func problem(from error: any Error, file: String = "log", sequence: UInt64? = nil) -> VerifyProblem {
        guard let logError = error as? EventLogError else {
            return VerifyProblem(file: file, offset: nil, sequence: sequence, problem: "\(error)")
        }
        switch logError {
        case .corruptSegment(let path, let offset, let at, let reason):
            return VerifyProblem(file: relative(path), offset: offset, sequence: at ?? sequence, problem: reason)
        default:
            return VerifyProblem(file: file, offset: nil, sequence: sequence, problem: logError.description)
        }
    }

    /// `DATA/log/x.seg` → `log/x.seg` (the log names files by its own directory).
    private func relative(_ path: String) -> String {
        let prefix = directory.path.hasSuffix("/") ? directory.path : directory.path + "/"
        if path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
        return path.split(separator: "/").suffix(2).joined(separator: "/")
    }
}
