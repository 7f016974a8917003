import Logging
import NIOCore
import PostgresNIO

/// One row of `tunnel_registry.snapshot` (the blob still in its envelope).
struct SnapshotRow: Sendable {
    var sequence: UInt64
    var takenAtMicroseconds: Int64
    var blob: [UInt8]
}

/// The snapshot table's SQL.
enum SnapshotRows {
    /// Stores `blob` as the snapshot at `sequence` (an existing one at that sequence stays) and
    /// deletes all but the newest `keep`.
    static func write(sequence: UInt64, blob: [UInt8], keep: Int, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        let buffer = ByteBuffer(bytes: blob)
        try await connection.query(
            """
            INSERT INTO tunnel_registry.snapshot (seq, taken_at, blob)
            VALUES (\(Int64(sequence)), (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, \(buffer))
            ON CONFLICT (seq) DO NOTHING
            """, logger: logger)
        try await connection.query(
            """
            DELETE FROM tunnel_registry.snapshot WHERE seq NOT IN (
                SELECT seq FROM tunnel_registry.snapshot ORDER BY seq DESC LIMIT \(Int64(max(keep, 1))))
            """, logger: logger)
    }

    /// Snapshots at or before `sequence`, newest first.
    static func list(atOrBefore sequence: UInt64, on connection: PostgresConnection, logger: Logger)
        async throws -> [SnapshotRow]
    {
        let limit = Int64(min(sequence, UInt64(Int64.max)))
        let rows = try await connection.query(
            """
            SELECT seq, taken_at, blob FROM tunnel_registry.snapshot WHERE seq <= \(limit) ORDER BY seq DESC
            """, logger: logger)
        var found: [SnapshotRow] = []
        for try await (seq, takenAt, blob) in rows.decode((Int64, Int64, ByteBuffer).self) {
            found.append(
                SnapshotRow(sequence: UInt64(seq), takenAtMicroseconds: takenAt, blob: Array(blob.readableBytesView)))
        }
        return found
    }

    /// Sizes of the stored snapshots, newest first.
    static func sizes(on connection: PostgresConnection, logger: Logger) async throws -> [(UInt64, Int64, Int)] {
        let rows = try await connection.query(
            "SELECT seq, taken_at, octet_length(blob) FROM tunnel_registry.snapshot ORDER BY seq DESC", logger: logger)
        var found: [(UInt64, Int64, Int)] = []
        for try await (seq, takenAt, bytes) in rows.decode((Int64, Int64, Int32).self) {
            found.append((UInt64(seq), takenAt, Int(bytes)))
        }
        return found
    }
}
