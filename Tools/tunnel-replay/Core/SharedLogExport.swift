import EventLog
import FileStore
import Logging
import Registry
import SharedLog

/// Copies a shared log into a data directory through the Registry's own writers: the log via
/// `EventLogWriter` (a clock set to each commit's time, so every record keeps its sequence and
/// commit time), the snapshots via `SnapshotStore`.
struct SharedLogExport {
    let reader: SharedLogReader
    let dataDirectory: String

    struct Summary {
        var records: UInt64 = 0
        var commits = 0
        var snapshots = 0
    }

    /// Records read from the database per round (bounds memory on any log).
    static let chunkRecords = 65_536

    func run() async throws -> Summary {
        let head = try await reader.head()
        var summary = Summary()
        let clock = ScriptedClock()
        var configuration = EventLogConfiguration(directory: dataDirectory + "/log")
        configuration.fsync = .never
        configuration.recordTally = .registryEvents
        var logger = Logger(label: "tunnel-replay.export")
        logger.logLevel = .warning
        let writer = try await EventLogWriter.open(configuration, logger: logger, clock: { clock.now() })
        do {
            var next: UInt64 = 1
            while next <= head.sequence {
                let chunk = try await self.chunk(from: next, through: head.sequence)
                guard let last = chunk.last else { break }
                for commit in Self.commits(chunk) {
                    clock.set(commit[0].timeMicroseconds)
                    let position = try await writer.append(contentsOf: commit.map(\.payload))
                    try Self.check(position, against: commit[0])
                    summary.commits += 1
                }
                summary.records = last.sequence
                next = last.sequence + 1
            }
            guard summary.records == head.sequence else {
                throw ReplayError.readFailed(
                    "the shared log ended at sequence \(summary.records) but its head says \(head.sequence);"
                        + " run tunnel-replay verify --postgres URL")
            }
            try await writer.close()
        } catch {
            try? await writer.close()
            throw error
        }
        summary.snapshots = try await copySnapshots(through: head.sequence)
        return summary
    }

    /// Runs of records with one commit time, in order (the database's commits, or merged runs
    /// of commits that share an instant: the records and their times are the same).
    static func commits(_ records: [StoreRecord]) -> [[StoreRecord]] {
        var commits: [[StoreRecord]] = []
        for record in records {
            if let time = commits.last?.last?.timeMicroseconds, time == record.timeMicroseconds {
                commits[commits.count - 1].append(record)
            } else {
                commits.append([record])
            }
        }
        return commits
    }

    private static func check(_ position: LogPosition, against record: StoreRecord) throws {
        guard position.sequence == record.sequence, position.timestampMicroseconds == record.timeMicroseconds else {
            throw ReplayError.readFailed(
                "export wrote sequence \(record.sequence) at \(position.sequence), time \(record.timeMicroseconds)"
                    + " as \(position.timestampMicroseconds): the data directory must be empty; start again in a new one")
        }
    }

    private func chunk(from sequence: UInt64, through last: UInt64) async throws -> [StoreRecord] {
        var records: [StoreRecord] = []
        do {
            try await reader.read(fromSequence: sequence) { record in
                guard record.sequence <= last else { throw ChunkFull() }
                records.append(record)
                if records.count >= Self.chunkRecords { throw ChunkFull() }
            }
        } catch is ChunkFull {}
        return records
    }

    /// Copies every stored snapshot at or before the exported head; a damaged one is skipped
    /// with a warning (the log alone replays to every state).
    private func copySnapshots(through last: UInt64) async throws -> Int {
        let store = SnapshotStore(directory: dataDirectory + "/snapshots")
        var copied = 0
        for info in try await reader.snapshots() where info.sequence <= last {
            do {
                let projection = try await reader.snapshot(atSequence: info.sequence)
                _ = try await store.write(projection, keep: Int.max)
                copied += 1
            } catch {
                Diagnostics.warn("snapshot \(info.sequence) not exported: \(PostgresLog.text(error))")
            }
        }
        return copied
    }

    private struct ChunkFull: Error {}
}
