import EventLog
import Registry

/// One problem `verify` found, located as precisely as the failing layer allows.
struct VerifyProblem: Sendable, Equatable {
    var file: String
    var offset: Int?
    var sequence: UInt64?
    var problem: String

    static let columns = ["file", "offset", "sequence", "problem"]

    var cells: [Cell] {
        [.text(file), offset.map { Cell.int(Int64($0)) } ?? .null, sequence.map { Cell.int(Int64($0)) } ?? .null,
         .text(problem)]
    }
}

/// Checks a data directory: the log's own checks (framing, checksums), sequence continuity,
/// that every record decodes, and that every snapshot equals the fold of the log up to it.
struct Verifier {
    let directory: DataDirectory
    let scan: EventScan

    struct Summary {
        var problems: [VerifyProblem] = []
        var segments = 0
        var records = 0
        var snapshots = 0
    }

    func run() throws(ReplayError) -> Summary {
        var summary = Summary()
        let segments = try directory.segments(scan.reader)
        summary.segments = segments.count
        let logProblems = scan.reader.verify().map(Self.problem(from:))
        summary.problems += logProblems
        summary.problems += continuityProblems(segments)
        let damagedFiles = Set(logProblems.map(\.file))
        let snapshots = loadSnapshots(&summary)
        var projection = Projection()
        var expected: UInt64 = segments.first?.firstSequence ?? 1
        for segment in segments where segment.lastSequence > 0 && !damagedFiles.contains(segment.fileName) {
            if segment.firstSequence != expected { projection = Projection() }
            expected = segment.firstSequence
            var cursor = try scan.makeCursor(.sequence(segment.firstSequence))
            while expected <= segment.lastSequence {
                let record: LogRecord
                do {
                    guard let next = try cursor.next() else { break }
                    record = next
                } catch {
                    summary.problems.append(Self.readProblem(error, file: segment.fileName, sequence: expected))
                    break
                }
                if record.sequence != expected {
                    summary.problems.append(
                        VerifyProblem(
                            file: segment.fileName, offset: nil, sequence: record.sequence,
                            problem: "sequence \(record.sequence) follows \(expected - 1): records are missing"))
                }
                expected = record.sequence + 1
                summary.records += 1
                do {
                    projection.apply(try EventCodec.decode(record))
                } catch {
                    summary.problems.append(
                        VerifyProblem(
                            file: segment.fileName, offset: nil, sequence: record.sequence,
                            problem: "record does not decode: \(error)"))
                    continue
                }
                if let snapshot = snapshots[record.sequence], snapshot != projection {
                    summary.problems.append(
                        VerifyProblem(
                            file: snapshotFile(record.sequence), offset: nil, sequence: record.sequence,
                            problem: "snapshot differs from the fold of the log up to sequence \(record.sequence)"))
                }
            }
        }
        let lastLogged = segments.last(where: { $0.lastSequence > 0 })?.lastSequence ?? 0
        for sequence in snapshots.keys.sorted() where sequence > lastLogged {
            summary.problems.append(
                VerifyProblem(
                    file: snapshotFile(sequence), offset: nil, sequence: sequence,
                    problem: "snapshot is at sequence \(sequence) but the log ends at \(lastLogged)"))
        }
        return summary
    }

    /// Loads every snapshot; damaged ones become problems.
    private func loadSnapshots(_ summary: inout Summary) -> [UInt64: Projection] {
        let store = directory.snapshotStore()
        var loaded: [UInt64: Projection] = [:]
        let sequences: [UInt64]
        do {
            sequences = try store.sequences()
        } catch {
            summary.problems.append(
                VerifyProblem(file: "snapshots", offset: nil, sequence: nil, problem: "cannot list snapshots: \(error)"))
            return [:]
        }
        summary.snapshots = sequences.count
        for sequence in sequences {
            do {
                loaded[sequence] = try store.load(sequence: sequence)
            } catch {
                summary.problems.append(
                    VerifyProblem(
                        file: snapshotFile(sequence), offset: nil, sequence: sequence,
                        problem: "snapshot does not load: \(error)"))
            }
        }
        return loaded
    }

    private func snapshotFile(_ sequence: UInt64) -> String {
        "snapshots/\(sequence)"
    }

    /// Gaps and overlaps between consecutive segments, from their headers.
    private func continuityProblems(_ segments: [SegmentInfo]) -> [VerifyProblem] {
        var problems: [VerifyProblem] = []
        var previous: SegmentInfo?
        for segment in segments where segment.lastSequence > 0 {
            if let previous, segment.firstSequence != previous.lastSequence + 1 {
                problems.append(
                    VerifyProblem(
                        file: segment.fileName, offset: 0, sequence: segment.firstSequence,
                        problem: "segment starts at sequence \(segment.firstSequence) but \(previous.fileName)"
                            + " ends at \(previous.lastSequence)"))
            }
            previous = segment
        }
        return problems
    }

    static func problem(from error: EventLogError) -> VerifyProblem {
        switch error {
        case .corruptSegment(let file, let offset, let sequence, let reason):
            return VerifyProblem(file: file, offset: offset, sequence: sequence, problem: reason)
        default:
            return VerifyProblem(file: "log", offset: nil, sequence: nil, problem: error.description)
        }
    }

    private static func readProblem(_ error: any Error, file: String, sequence: UInt64) -> VerifyProblem {
        if let logError = error as? EventLogError, case .corruptSegment = logError {
            return problem(from: logError)
        }
        return VerifyProblem(file: file, offset: nil, sequence: sequence, problem: "read failed: \(error)")
    }
}
