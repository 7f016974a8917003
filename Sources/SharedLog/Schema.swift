import Logging
import PostgresNIO

/// The schema `tunnel_registry`: created and migrated at open, under a transaction-level advisory
/// lock so instances starting together migrate once. A database whose schema is newer than this
/// build is refused. Tables are described in docs/FORMAT.md ("Shared log in PostgreSQL").
enum Schema {
    /// The version this build writes and reads.
    static let version = 1
    /// Advisory lock key serializing migrations ("tr-migr").
    static let migrationLockKey: Int64 = 0x7472_2D6D_6967_7200
    /// Advisory lock key of the sweeper leadership ("tr-lead").
    static let leaderLockKey: Int64 = 0x7472_2D6C_6561_6400
    /// The channel every append notifies.
    static let channel = "tunnel_registry_log"

    /// Statements that bring an empty database (version 0) to version 1.
    static let version1: [String] = [
        """
        CREATE TABLE tunnel_registry.log_head (
            id boolean PRIMARY KEY DEFAULT true CHECK (id),
            last_seq bigint NOT NULL,
            last_committed_at bigint NOT NULL)
        """,
        "INSERT INTO tunnel_registry.log_head (id, last_seq, last_committed_at) VALUES (true, 0, 0)",
        """
        CREATE TABLE tunnel_registry.log_batch (
            first_seq bigint PRIMARY KEY,
            count integer NOT NULL CHECK (count > 0),
            committed_at bigint NOT NULL,
            frame bytea NOT NULL)
        """,
        "ALTER TABLE tunnel_registry.log_batch ALTER COLUMN frame SET STORAGE EXTERNAL",
        """
        CREATE TABLE tunnel_registry.snapshot (
            seq bigint PRIMARY KEY,
            taken_at bigint NOT NULL,
            blob bytea NOT NULL)
        """,
        "ALTER TABLE tunnel_registry.snapshot ALTER COLUMN blob SET STORAGE EXTERNAL",
        """
        CREATE FUNCTION tunnel_registry.notify_log() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('\(channel)', '');
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER log_batch_notify AFTER INSERT ON tunnel_registry.log_batch
        FOR EACH STATEMENT EXECUTE FUNCTION tunnel_registry.notify_log()
        """,
    ]

    /// Creates or migrates the schema; throws `schemaTooNew` when the database is ahead of this build.
    static func prepare(on connection: PostgresConnection, url: DatabaseURL, logger: Logger) async throws {
        let migrations = [version1]
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
            try await connection.query("CREATE SCHEMA IF NOT EXISTS tunnel_registry", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS tunnel_registry.schema_version (
                    version integer PRIMARY KEY,
                    migrated_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            let rows = try await connection.query(
                "SELECT coalesce(max(version), 0) FROM tunnel_registry.schema_version", logger: logger)
            var current = 0
            for try await (value) in rows.decode(Int.self) { current = value }
            guard current <= version else {
                throw SharedLogError(
                    .schemaTooNew,
                    "\(url.label): schema tunnel_registry is version \(current), this build knows up to \(version); "
                        + "upgrade tunnel-registry (never downgrade a cluster's instances)")
            }
            for next in (current + 1)...max(version, current + 1) where next <= version {
                for statement in migrations[next - 1] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO tunnel_registry.schema_version (version) VALUES (\(next))", logger: logger)
                logger.info("migrated the shared log schema", metadata: ["schema.version": "\(next)"])
            }
        }
    }
}
