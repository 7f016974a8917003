import Logging
import Metrics
import PostgresNIO
import Synchronization

/// The sweeper leadership: a session-level advisory lock held on a dedicated connection. Only the
/// holder appends lease expiry, and it appends over that same connection with a statement that
/// checks the lock (fencing): when PostgreSQL ends the session (terminated, or the instance
/// gone quiet past the keepalives) the lock and the right to write go together. Followers try
/// to take the lock every `checkSeconds`; the leader checks its session as often.
final class Leadership: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var held = false
    }

    private static let closing = "the store is closing"
    private let state = Mutex(State())
    private let connector: Connector
    private let checkSeconds: Double
    private let statementSeconds: Double
    private let metrics: SharedLogMetrics
    private let logger: Logger

    init(connector: Connector, checkSeconds: Double, statementSeconds: Double, metrics: SharedLogMetrics, logger: Logger) {
        self.connector = connector
        self.checkSeconds = checkSeconds
        self.statementSeconds = statementSeconds
        self.metrics = metrics
        self.logger = logger
    }

    /// True while the lock is held on a connection that is still open.
    var isLeader: Bool {
        state.withLock { state in
            guard state.held, let connection = state.connection, !connection.isClosed else { return false }
            return true
        }
    }

    /// Runs `operation` on the leader's connection; throws `notLeader` when not leading. A
    /// failure that closed the connection gives the leadership up at once.
    @discardableResult
    func withLeaderConnection<T: Sendable>(
        _ what: String, seconds: Double, _ operation: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(SharedLogError) -> T {
        let connection = state.withLock { state -> PostgresConnection? in
            guard state.held, let connection = state.connection, !connection.isClosed else { return nil }
            return connection
        }
        guard let connection else {
            throw SharedLogError(
                .notLeader, "\(connector.url.label): \(what) refused: this instance does not lead the sweeper")
        }
        do {
            let label = "\(connector.url.label): \(what)"
            return try await withTimeout(
                seconds: seconds, what: label,
                onTimeout: { connection.closeInBackground() }
            ) { try await operation(connection) }
        } catch {
            let described = connector.describe(error, while: what)
            // Only a statement error on a healthy session keeps the leadership; anything that
            // may have cost the session (and with it the lock) gives it up now.
            if connection.isClosed || described.kind != .database {
                resign(connection, reason: described.description)
            }
            throw described
        }
    }

    /// Gives the leadership up because the fenced statement found the lock gone.
    func lost(reason: String) {
        if let connection = state.withLock({ $0.connection }) { resign(connection, reason: reason) }
    }

    /// Tries to lead and keeps checking, until cancelled; then releases the lock.
    func run() async {
        while !Task.isCancelled {
            await step()
            try? await Task.sleep(for: .seconds(checkSeconds))
        }
        if let connection = state.withLock({ $0.connection }) {
            resign(connection, reason: Self.closing)
        }
    }

    private func step() async {
        let current = state.withLock { ($0.connection, $0.held) }
        if let connection = current.0, !connection.isClosed {
            do {
                if current.1 {
                    try await check(connection, "SELECT 1")
                } else if try await tryLock(connection) {
                    take(connection)
                }
            } catch {
                metrics.databaseError()
                resign(connection, reason: connector.describe(error, while: "checking the leader session").description)
            }
            return
        }
        do {
            let connection = try await connector.connect()
            connection.closeFuture.whenComplete { [weak self] _ in
                self?.resign(connection, reason: "the leader connection closed")
            }
            state.withLock { $0.connection = connection }
            if try await tryLock(connection) { take(connection) }
        } catch {
            metrics.databaseError()
            logger.debug("cannot try the sweeper lock", metadata: ["error": "\(connector.describe(error, while: "connecting"))"])
        }
    }

    private func tryLock(_ connection: PostgresConnection) async throws -> Bool {
        let logger = logger
        return try await withTimeout(
            seconds: statementSeconds, what: "pg_try_advisory_lock", onTimeout: { connection.closeInBackground() }
        ) {
            let rows = try await connection.query("SELECT pg_try_advisory_lock(\(Schema.leaderLockKey))", logger: logger)
            var held = false
            for try await (value) in rows.decode(Bool.self) { held = value }
            return held
        }
    }

    private func check(_ connection: PostgresConnection, _ sql: String) async throws {
        let logger = logger
        try await withTimeout(
            seconds: statementSeconds, what: "leader session check", onTimeout: { connection.closeInBackground() }
        ) {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            return true
        }
    }

    private func take(_ connection: PostgresConnection) {
        let taken = state.withLock { state -> Bool in
            guard state.connection === connection, !connection.isClosed else { return false }
            state.held = true
            return true
        }
        guard taken else { return }
        metrics.leading(true)
        logger.info("this instance leads the sweeper", metadata: ["instance": "\(connector.instance)"])
    }

    private func resign(_ connection: PostgresConnection, reason: String) {
        let wasLeader = state.withLock { state -> Bool? in
            guard state.connection === connection else { return nil }
            let held = state.held
            state.connection = nil
            state.held = false
            return held
        }
        guard let wasLeader else { return }
        connection.closeInBackground()
        if wasLeader {
            metrics.leading(false)
            logger.log(
                level: reason == Self.closing ? .info : .warning, "this instance no longer leads the sweeper",
                metadata: ["instance": "\(connector.instance)", "reason": "\(reason)"])
        }
    }
}
