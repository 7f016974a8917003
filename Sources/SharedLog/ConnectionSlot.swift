import Logging
import PostgresNIO

/// One connection used for one job (appends, reads, the merger), opened on first use and again
/// after it broke. Each operation runs under a deadline: when it passes, the connection is closed
/// (which fails the waiting statement at once) and dropped, so a dead database never hangs a caller.
actor ConnectionSlot {
    let connector: Connector
    let role: String
    private var connection: PostgresConnection?
    private var connecting: Task<PostgresConnection, any Error>?
    private var closed = false

    init(connector: Connector, role: String) {
        self.connector = connector
        self.role = role
    }

    /// Runs `operation` on the connection, connecting first when needed, all within `seconds`.
    @discardableResult
    func run<T: Sendable>(
        _ what: String, seconds: Double, _ operation: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(SharedLogError) -> T {
        let start = ContinuousClock.now
        let label = "\(connector.url.label): \(what)"
        let connection = try await current(seconds: seconds)
        let left = seconds - (ContinuousClock.now - start).secondsValue
        do {
            return try await withTimeout(seconds: left, what: label, onTimeout: { connection.closeInBackground() }) {
                try await operation(connection)
            }
        } catch {
            if connection.isClosed || (error as? SharedLogError)?.kind == .timeout { drop(connection) }
            throw connector.describe(error, while: what)
        }
    }

    /// Closes the connection; later operations fail.
    func close() async {
        closed = true
        if let connecting {
            self.connecting = nil
            Task { try? await connecting.value.close() }
        }
        if let connection {
            self.connection = nil
            try? await connection.close()
        }
    }

    private func current(seconds: Double) async throws(SharedLogError) -> PostgresConnection {
        guard !closed else { throw SharedLogError(.closed, "\(connector.url.label): the store is closed") }
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let task: Task<PostgresConnection, any Error>
        if let connecting {
            task = connecting
        } else {
            let connector = connector
            task = Task { try await connector.connect() }
            connecting = task
        }
        do {
            let label = "\(connector.url.label): connecting"
            let connection = try await withTimeout(seconds: seconds, what: label) { try await task.value }
            if connecting == task { connecting = nil }
            self.connection = connection
            return connection
        } catch {
            // A connect that outlived this caller's deadline stays for the next caller: it ends
            // on its own connect timeout and its connection is not lost.
            if (error as? SharedLogError)?.kind != .timeout, connecting == task { connecting = nil }
            throw connector.describe(error, while: "connecting")
        }
    }

    private func drop(_ connection: PostgresConnection) {
        if self.connection === connection { self.connection = nil }
        connection.closeInBackground()
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
