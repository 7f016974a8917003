import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Opens connections to the shared log's database: URL, TLS, a connect timeout, and TCP
/// keepalives on the server side (startup parameters) so PostgreSQL notices a dead instance and
/// frees its session, and with it the sweeper lock.
struct Connector: Sendable {
    let url: DatabaseURL
    let instance: String
    let connectTimeoutSeconds: Double
    let logger: Logger
    private let configuration: PostgresConnection.Configuration
    private static let nextID = Atomic<Int>(1)

    init(url: DatabaseURL, instance: String, connectTimeoutSeconds: Double, logger: Logger) throws(SharedLogError) {
        self.url = url
        self.instance = instance
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.logger = logger
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: try url.tls())
        configuration.options.connectTimeout = .milliseconds(Int64(connectTimeoutSeconds * 1_000))
        configuration.options.additionalStartupParameters = [
            ("application_name", String("tunnel-registry \(instance)".prefix(63))),
            ("tcp_keepalives_idle", "5"),
            ("tcp_keepalives_interval", "2"),
            ("tcp_keepalives_count", "3"),
        ]
        self.configuration = configuration
    }

    /// A new connection, or an error that names host and database and says what to do.
    func connect() async throws(SharedLogError) -> PostgresConnection {
        let configuration = configuration
        let logger = logger
        let id = Self.nextID.add(1, ordering: .relaxed).newValue
        let attempt = Task { try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger) }
        do {
            return try await withTimeout(seconds: connectTimeoutSeconds + 0.5, what: "\(url.label): connecting") {
                try await attempt.value
            }
        } catch {
            // A connection that arrives after the deadline is closed, not leaked.
            Task { try? await attempt.value.close() }
            throw describe(error, while: "connecting")
        }
    }

    /// Turns any error of postgres-nio or NIO into one line naming host and database.
    func describe(_ error: any Error, while doing: String) -> SharedLogError {
        ErrorText.describe(error, url: url, doing: doing)
    }
}

extension PostgresConnection {
    /// Starts closing without waiting; the connection stays referenced until it is closed
    /// (postgres-nio requires a connection to be closed before it is released).
    func closeInBackground() {
        close().whenComplete { _ in withExtendedLifetime(self) {} }
    }
}
