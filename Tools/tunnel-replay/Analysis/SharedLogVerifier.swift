import Registry
import SharedLog

/// Checks a cluster's shared log: every row opens (envelope and CRC32C, checked by the reader),
/// sequences run densely from 1 to the head, every record decodes, and every stored snapshot
/// equals the fold of the log up to its sequence (the server's `Projection`, compared with `==`).
/// Problems name `log_batch` or `snapshot` and the sequence; `segments` counts 0 (there are none).
struct SharedLogVerifier {
    let log: PostgresLog

    func run() -> Verifier.Summary {
        var summary = Verifier.Summary()
        let head: UInt64
        do {
            head = try log.head().sequence
        } catch {
            summary.problems.append(VerifyProblem(file: "log_head", offset: nil, sequence: nil, problem: "\(error)"))
            return summary
        }
        let infos = log.snapshots().filter { $0.sequence <= head }.sorted { $0.sequence < $1.sequence }
        var snapshots: [UInt64: Projection] = [:]
        for info in infos {
            do {
                snapshots[info.sequence] = try log.snapshot(atSequence: info.sequence)
            } catch {
                summary.problems.append(problem("snapshot", info.sequence, PostgresLog.text(error)))
            }
        }
        summary.snapshots = infos.count
        var projection = Projection()
        var expected: UInt64 = 1
        do {
            try log.read(fromSequence: 1) { record in
                guard record.sequence <= head else { return false }
                guard record.sequence == expected else {
                    summary.problems.append(problem("log_batch", expected, "sequence \(expected) is missing"))
                    return false
                }
                expected += 1
                summary.records += 1
                let event: RegistryEvent
                do {
                    event = try EventCodec.decode(record)
                } catch {
                    summary.problems.append(problem("log_batch", record.sequence, "record does not decode: \(error)"))
                    return true
                }
                projection.apply(event)
                if let stored = snapshots[record.sequence], stored != projection {
                    summary.problems.append(
                        problem("snapshot", record.sequence, "snapshot differs from the fold of the log up to it"))
                }
                return true
            }
        } catch {
            summary.problems.append(problem("log_batch", expected, PostgresLog.text(error)))
        }
        if summary.problems.isEmpty, expected <= head {
            summary.problems.append(problem("log_batch", expected, "the log ends at \(expected - 1), its head says \(head)"))
        }
        return summary
    }

    private func problem(_ table: String, _ sequence: UInt64, _ text: String) -> VerifyProblem {
        VerifyProblem(file: table, offset: nil, sequence: sequence, problem: text)
    }
}
