import Registry
import Logging
import NIOCore
import PostgresNIO

/// One row of `tunnel_registry.log_batch`.
struct BatchRow: Sendable {
    var firstSequence: UInt64
    var count: Int
    var committedAt: Int64
    var frame: [UInt8]

    var lastSequence: UInt64 { firstSequence + UInt64(count) - 1 }
}

/// The log's SQL, in one place: the group-commit append, the ranged read, the head.
enum LogQueries {
    /// Rows a read takes at once.
    static let readRowsMax = 256
    /// Sequences a read's rows start within (bounds a page of dense rows).
    static let readWindow: UInt64 = 65_536

    /// Bumps the head by `count` and inserts the row in one statement, so sequences are dense and
    /// follow commit order, and the commit time (the database's clock) never goes back. With
    /// `fenced`, the head is only bumped while this session holds the leader's advisory lock.
    static func append(count: Int, frame: [UInt8], fenced: Bool) -> PostgresQuery {
        let total = Int64(count)
        let rows = Int32(count)
        let buffer = ByteBuffer(bytes: frame)
        let fence =
            fenced
            ? "WHERE EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
                + " AND objid = '\(UInt32(truncatingIfNeeded: Schema.leaderLockKey))'::oid)"
            : ""
        return """
            WITH head AS (
                UPDATE tunnel_registry.log_head
                SET last_seq = last_seq + \(total),
                    last_committed_at = greatest(
                        last_committed_at, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
                \(unescaped: fence)
                RETURNING last_seq, last_committed_at)
            INSERT INTO tunnel_registry.log_batch (first_seq, count, committed_at, frame)
            SELECT last_seq - \(total) + 1, \(rows), last_committed_at, \(buffer) FROM head
            RETURNING first_seq, committed_at
            """
    }

    /// Appends `frame` holding `count` records with the prepared `AppendStatement` (the group
    /// commit's path: unfenced) and returns the first record's position and the session's backend PID.
    static func runPreparedAppend(
        count: Int, frame: [UInt8], on connection: PostgresConnection, logger: Logger
    ) async throws -> (position: StorePosition, writerPID: Int32)? {
        let rows = try await connection.execute(
            AppendStatement(count: Int64(count), frame: ByteBuffer(bytes: frame)), logger: logger)
        var appended: (position: StorePosition, writerPID: Int32)?
        for try await (first, committedAt, pid) in rows {
            appended = (StorePosition(sequence: UInt64(first), timeMicroseconds: committedAt), pid)
        }
        return appended
    }

    /// Runs `append` and returns the first record's position (nil when the fence stopped it).
    static func runAppend(
        _ query: PostgresQuery, on connection: PostgresConnection, logger: Logger
    ) async throws -> StorePosition? {
        let rows = try await connection.query(query, logger: logger)
        var position: StorePosition?
        for try await (first, committedAt) in rows.decode((Int64, Int64).self) {
            position = StorePosition(sequence: UInt64(first), timeMicroseconds: committedAt)
        }
        return position
    }

    /// Rows holding sequences after `last`, in order: the row that covers `last + 1` (a dense
    /// row written by the merger may start before it) and the ones after, at most `limit` rows
    /// starting within `window` sequences (so a page of dense rows stays bounded in memory);
    /// and the head, read in the same snapshot (every sequence up to it is in some row).
    static func rows(
        after last: UInt64, limit: Int = readRowsMax, window: UInt64 = readWindow, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> (rows: [BatchRow], head: UInt64) {
        let statement = RowsAfterStatement(next: Int64(last + 1), until: Int64(last + window), limit: Int64(limit))
        let stream = try await connection.execute(statement, logger: logger)
        var rows: [BatchRow] = []
        var head: UInt64 = 0
        for try await (lastSeq, first, count, committedAt, frame) in stream {
            head = UInt64(lastSeq)
            guard let first, let count, let committedAt, let frame else { continue }
            rows.append(
                BatchRow(
                    firstSequence: UInt64(first), count: Int(count), committedAt: committedAt,
                    frame: Array(frame.readableBytesView)))
        }
        return (rows, head)
    }

    /// The first sequence of the first row committed at or after `timeMicroseconds` (nil: none).
    static func firstRow(atOrAfter timeMicroseconds: Int64, on connection: PostgresConnection, logger: Logger)
        async throws -> UInt64?
    {
        let rows = try await connection.query(
            """
            SELECT first_seq FROM tunnel_registry.log_batch WHERE committed_at >= \(timeMicroseconds)
            ORDER BY first_seq LIMIT 1
            """, logger: logger)
        var first: UInt64?
        for try await (value) in rows.decode(Int64.self) { first = UInt64(value) }
        return first
    }

    /// The highest committed sequence and its commit time.
    static func head(on connection: PostgresConnection, logger: Logger) async throws -> StorePosition {
        let rows = try await connection.query(
            "SELECT last_seq, last_committed_at FROM tunnel_registry.log_head", logger: logger)
        var position = StorePosition(sequence: 0, timeMicroseconds: 0)
        for try await (sequence, time) in rows.decode((Int64, Int64).self) {
            position = StorePosition(sequence: UInt64(sequence), timeMicroseconds: time)
        }
        return position
    }
}

/// What went wrong reading rows: a gap (a bug: sequences are dense) or a damaged frame.
enum ReadProblem: Error {
    case gap(expected: UInt64, found: UInt64)
    case corrupt(firstSequence: UInt64, reason: String)

    func error(label: String) -> SharedLogError {
        switch self {
        case .gap(let expected, let found):
            return SharedLogError(
                .corrupt, "\(label): the shared log jumps from sequence \(expected) to \(found); "
                    + "this is a bug, report it with the log_batch rows around \(expected)")
        case .corrupt(let first, let reason):
            return SharedLogError(
                .corrupt, "\(label): log_batch row first_seq \(first) is damaged: \(reason); "
                    + "restore the database from a backup")
        }
    }
}

/// Decodes rows into the records after `last`: skips those at or before `last` (a dense row may
/// start earlier) and, undecoded, whole rows `omit` names (the tail's own commits), stops at a
/// gap (what came before is returned with the problem). `through` is the last sequence covered.
func recordsAfter(
    _ last: UInt64, in rows: [BatchRow], head: UInt64? = nil, omit: (BatchRow) -> Bool = { _ in false }
) -> (records: [StoreRecord], through: UInt64, problem: ReadProblem?) {
    var records: [StoreRecord] = []
    var next = last + 1
    for row in rows where row.lastSequence >= next {
        guard row.firstSequence <= next else {
            return (records, next - 1, .gap(expected: next, found: row.firstSequence))
        }
        if row.firstSequence == next && omit(row) {
            next = row.lastSequence + 1
            continue
        }
        switch BatchFrame.decode(
            row.frame, firstSequence: row.firstSequence, count: row.count, committedAt: row.committedAt)
        {
        case .failure(let failure):
            return (records, next - 1, .corrupt(firstSequence: row.firstSequence, reason: failure.reason))
        case .success(let decoded):
            let skip = Int(next - row.firstSequence)
            records.append(contentsOf: decoded.records[skip...])
            next = row.lastSequence + 1
        }
    }
    if let head, next == last + 1, head >= next {
        // The head says sequence `next` is committed, yet no row holds it.
        return (
            records, last, .gap(expected: next, found: rows.first { $0.firstSequence > next }?.firstSequence ?? head + 1)
        )
    }
    return (records, next - 1, nil)
}
