import Logging
import NIOCore
import PostgresNIO
import Registry

/// The merger (run by the sweeper leader): rewrites runs of old small batch rows into one dense
/// row per run, in one transaction (delete the small rows, insert the dense one), so storage per
/// event stays close to the local log's. Readers never miss a record: a dense row covers the
/// same sequences as the rows it replaces, and readers take the row covering their position.
struct Merger: Sendable {
    let slot: ConnectionSlot
    let configuration: SharedLogConfiguration
    let statementSeconds: Double
    let logger: Logger

    /// What one pass did.
    struct Pass: Sendable, Equatable {
        var runs = 0
        var rowsRemoved = 0
        var records = 0
    }


    /// Merges every qualifying run among the oldest small rows; returns what it did.
    func mergeOnce() async throws(SharedLogError) -> Pass {
        let age = Int64(configuration.mergeAgeSeconds * 1_000_000)
        let small = Int32(configuration.mergeSmallRecordsMax)
        let logger = logger
        let candidates = try await slot.run("finding rows to merge", seconds: statementSeconds) { connection in
            let rows = try await connection.query(
                """
                SELECT first_seq, count, committed_at, frame FROM tunnel_registry.log_batch
                WHERE count < \(small)
                  AND committed_at < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint - \(age)
                ORDER BY first_seq LIMIT \(Int64(max(configuration.mergeRecordsMax, 65_536)))
                """, logger: logger)
            var found: [BatchRow] = []
            for try await (first, count, committedAt, frame) in rows.decode((Int64, Int32, Int64, ByteBuffer).self) {
                found.append(
                    BatchRow(
                        firstSequence: UInt64(first), count: Int(count), committedAt: committedAt,
                        frame: Array(frame.readableBytesView)))
            }
            return found
        }
        var pass = Pass()
        for run in runs(in: candidates) {
            let merged = try await merge(run)
            if merged {
                pass.runs += 1
                pass.rowsRemoved += run.count
                pass.records += run.reduce(0) { $0 + $1.count }
            }
        }
        return pass
    }

    /// Contiguous runs of at least `mergeRunRowsMin` rows, each at most `mergeRecordsMax` records.
    func runs(in rows: [BatchRow]) -> [[BatchRow]] {
        var runs: [[BatchRow]] = []
        var current: [BatchRow] = []
        var records = 0
        func close() {
            if current.count >= configuration.mergeRunRowsMin { runs.append(current) }
            current = []
            records = 0
        }
        for row in rows {
            let contiguous = current.last.map { $0.lastSequence + 1 == row.firstSequence } ?? true
            if !contiguous || records + row.count > configuration.mergeRecordsMax { close() }
            current.append(row)
            records += row.count
        }
        close()
        return runs
    }

    /// Replaces `run` by one dense row; false when another merger got there first.
    private func merge(_ run: [BatchRow]) async throws(SharedLogError) -> Bool {
        var commits: [BatchFrame.Commit] = []
        var payloads: [[UInt8]] = []
        for row in run {
            switch BatchFrame.decode(
                row.frame, firstSequence: row.firstSequence, count: row.count, committedAt: row.committedAt)
            {
            case .failure(let failure):
                throw ReadProblem.corrupt(firstSequence: row.firstSequence, reason: failure.reason)
                    .error(label: slot.connector.url.label)
            case .success(let decoded):
                commits.append(contentsOf: decoded.commits)
                payloads.append(contentsOf: decoded.records.map(\.payload))
            }
        }
        guard let first = run.first, let last = run.last else { return false }
        let frame = ByteBuffer(
            bytes: BatchFrame.encode(commits: commits, payloads: payloads, level: configuration.mergeCompressionLevel))
        let start = Int64(first.firstSequence)
        let lastStart = Int64(last.firstSequence)
        let count = Int32(payloads.count)
        let committedAt = last.committedAt
        let expected = run.count
        let logger = logger
        return try await slot.run("merging rows \(start)...\(lastStart)", seconds: statementSeconds) { connection in
            do {
                return try await connection.withTransaction(logger: logger) { connection in
                    let deleted = try await connection.query(
                        """
                        DELETE FROM tunnel_registry.log_batch WHERE first_seq BETWEEN \(start) AND \(lastStart)
                        RETURNING first_seq
                        """, logger: logger)
                    var removed = 0
                    for try await _ in deleted { removed += 1 }
                    guard removed == expected else { throw MergeConflict() }
                    try await connection.query(
                        """
                        INSERT INTO tunnel_registry.log_batch (first_seq, count, committed_at, frame)
                        VALUES (\(start), \(count), \(committedAt), \(frame))
                        """, logger: logger)
                    return true
                }
            } catch let error as PostgresTransactionError where error.closureError is MergeConflict {
                return false
            }
        }
    }
}

/// The rows changed under the merger (another merger ran); the transaction rolls back.
private struct MergeConflict: Error {}
