import NIOCore
import PostgresNIO

/// The group commit's append as a prepared statement: parsed and planned once per connection
/// instead of once per commit (planning was a third of PostgreSQL's CPU under a renew storm).
/// The same SQL as `LogQueries.append(count:frame:fenced: false)`, also returning the session's
/// backend PID (the tail knows its own writers' notifications by it).
struct AppendStatement: PostgresPreparedStatement {
    typealias Row = (Int64, Int64, Int32)

    static let name = "tunnel_registry_append_v2"
    static let sql = """
        WITH head AS (
            UPDATE tunnel_registry.log_head
            SET last_seq = last_seq + $1,
                last_committed_at = greatest(
                    last_committed_at, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
            RETURNING last_seq, last_committed_at)
        INSERT INTO tunnel_registry.log_batch (first_seq, count, committed_at, frame)
        SELECT last_seq - $1 + 1, $2, last_committed_at, $3 FROM head
        RETURNING first_seq, committed_at, pg_backend_pid()
        """
    static let bindingDataTypes: [PostgresDataType] = [.int8, .int4, .bytea]

    var count: Int64
    var frame: ByteBuffer

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(count)
        bindings.append(Int32(count))
        bindings.append(frame)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}

/// The ranged read of `LogQueries.rows(after:...)` as a prepared statement: the tail runs it on
/// every notification, on every instance.
struct RowsAfterStatement: PostgresPreparedStatement {
    typealias Row = (Int64, Int64?, Int32?, Int64?, ByteBuffer?)

    static let name = "tunnel_registry_rows_after_v1"
    static let sql = """
        SELECT head.last_seq, batch.first_seq, batch.count, batch.committed_at, batch.frame
        FROM tunnel_registry.log_head AS head
        LEFT JOIN LATERAL (
            SELECT first_seq, count, committed_at, frame FROM tunnel_registry.log_batch
            WHERE first_seq >= coalesce(
                    (SELECT max(first_seq) FROM tunnel_registry.log_batch WHERE first_seq <= $1), 0)
              AND first_seq <= $2
            ORDER BY first_seq
            LIMIT $3) AS batch ON true
        ORDER BY batch.first_seq
        """
    static let bindingDataTypes: [PostgresDataType] = [.int8, .int8, .int8]

    var next: Int64
    var until: Int64
    var limit: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(next)
        bindings.append(until)
        bindings.append(limit)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}
