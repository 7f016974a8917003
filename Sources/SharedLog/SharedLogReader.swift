import Registry
import Logging
import PostgresNIO

/// A read-only view of a cluster's shared log for the replay tool: records from a sequence or
/// from a time, the head, and the stored snapshots. It never creates or migrates the schema and
/// takes no lock; it refuses a schema newer than this build.
public final class SharedLogReader: Sendable {
    /// A stored snapshot: the sequence it was taken at, when (database clock, µs), and its size.
    public struct SnapshotInfo: Sendable, Equatable {
        public var sequence: UInt64
        public var takenAtMicroseconds: Int64
        public var bytes: Int
    }

    private let slot: ConnectionSlot
    private let statementSeconds: Double
    private let logger: Logger

    private init(slot: ConnectionSlot, statementSeconds: Double, logger: Logger) {
        self.slot = slot
        self.statementSeconds = statementSeconds
        self.logger = logger
    }

    /// Connects to `url` and checks that it holds a shared log this build can read.
    public static func open(url: String, statementTimeoutSeconds: Double = 60, logger: Logger) async throws
        -> SharedLogReader
    {
        let parsed = try DatabaseURL(url)
        let connector = try Connector(url: parsed, instance: "reader", connectTimeoutSeconds: 5, logger: logger)
        let reader = SharedLogReader(
            slot: ConnectionSlot(connector: connector, role: "reader"), statementSeconds: statementTimeoutSeconds,
            logger: logger)
        do {
            let version = try await reader.slot.run("reading the schema version", seconds: statementTimeoutSeconds) {
                connection in
                let rows = try await connection.query(
                    """
                    SELECT CASE WHEN to_regclass('tunnel_registry.schema_version') IS NULL THEN -1
                    ELSE (SELECT coalesce(max(version), 0) FROM tunnel_registry.schema_version) END
                    """, logger: logger)
                var version = -1
                for try await (value) in rows.decode(Int.self) { version = value }
                return version
            }
            guard version > 0 else {
                throw SharedLogError(
                    .database, "\(parsed.label): holds no shared log (schema tunnel_registry is missing); "
                        + "check the database name, or start tunnel-registry --postgres on it first")
            }
            guard version <= Schema.version else {
                throw SharedLogError(
                    .schemaTooNew, "\(parsed.label): schema tunnel_registry is version \(version), this build "
                        + "reads up to \(Schema.version); use a newer tunnel-replay")
            }
        } catch {
            await reader.slot.close()
            throw error
        }
        return reader
    }

    /// The highest committed sequence and its commit time (sequence 0: empty).
    public func head() async throws -> StorePosition {
        let logger = logger
        return try await slot.run("reading log_head", seconds: statementSeconds) { connection in
            try await LogQueries.head(on: connection, logger: logger)
        }
    }

    /// Calls `body` with every record whose sequence is at least `sequence`, in order.
    public func read(fromSequence sequence: UInt64, _ body: (StoreRecord) throws -> Void) async throws {
        try await LogReading.read(
            after: sequence == 0 ? 0 : sequence - 1, slot: slot, seconds: statementSeconds, logger: logger, body)
    }

    /// Calls `body` with every record committed at or after `timeMicroseconds`, in order.
    public func read(fromTime timeMicroseconds: Int64, _ body: (StoreRecord) throws -> Void) async throws {
        let logger = logger
        let first = try await slot.run("finding the first row at a time", seconds: statementSeconds) { connection in
            try await LogQueries.firstRow(atOrAfter: timeMicroseconds, on: connection, logger: logger)
        }
        guard let first else { return }
        try await LogReading.read(after: first - 1, slot: slot, seconds: statementSeconds, logger: logger) { record in
            if record.timeMicroseconds >= timeMicroseconds { try body(record) }
        }
    }

    /// The stored snapshots, newest first.
    public func snapshots() async throws -> [SnapshotInfo] {
        let logger = logger
        return try await slot.run("listing snapshots", seconds: statementSeconds) { connection in
            try await SnapshotRows.sizes(on: connection, logger: logger).map {
                SnapshotInfo(sequence: $0.0, takenAtMicroseconds: $0.1, bytes: $0.2)
            }
        }
    }

    /// The plain bytes (`Projection.snapshotBytes()` form) of the snapshot at exactly `sequence`;
    /// throws when it is missing or damaged.
    public func snapshotBytes(atSequence sequence: UInt64) async throws -> [UInt8] {
        let logger = logger
        let rows = try await slot.run("loading snapshot \(sequence)", seconds: statementSeconds) { connection in
            try await SnapshotRows.list(atOrBefore: sequence, on: connection, logger: logger)
        }
        guard let row = rows.first, row.sequence == sequence else {
            throw SharedLogError(
                .database, "\(slot.connector.url.label): no snapshot at sequence \(sequence); list them with snapshots()")
        }
        switch Envelope.open(row.blob) {
        case .success(let plain): return plain
        case .failure(let failure):
            throw SharedLogError(
                .corrupt, "\(slot.connector.url.label): snapshot at sequence \(sequence) is damaged: \(failure.reason)")
        }
    }

    /// Closes the connection.
    public func close() async {
        await slot.close()
    }
}
