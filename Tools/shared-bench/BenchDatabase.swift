import ArgumentParser
import Foundation
import Logging
import PostgresNIO

/// The benchmark's own databases on the measured server: created per phase, dropped after.
struct BenchDatabase {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let query: String
    let prefix = "shared_bench_\(getpid())_"
    private let logger = Logger(label: "shared-bench-admin")

    init(url: String) throws {
        guard let components = URLComponents(string: url), let host = components.host else {
            throw ValidationError("--postgres \(url) is not a postgres://user@host:port/db URL")
        }
        self.host = host
        port = components.port ?? 5432
        user = components.user ?? "postgres"
        password = components.password
        query = components.percentEncodedQuery.map { "?" + $0 } ?? ""
    }

    /// Creates the database of a phase (with per-database settings) and returns its URL.
    func create(_ name: String, settings: [String: String]) async throws -> String {
        try await execute("DROP DATABASE IF EXISTS \(prefix)\(name)", in: nil)
        try await execute("CREATE DATABASE \(prefix)\(name)", in: nil)
        for (key, value) in settings {
            try await execute("ALTER DATABASE \(prefix)\(name) SET \(key) = \(value)", in: nil)
        }
        let credentials = password.map { "\(user):\($0)" } ?? user
        return "postgres://\(credentials)@\(host):\(port)/\(prefix)\(name)\(query)"
    }

    func drop(_ name: String) async throws {
        try await execute("DROP DATABASE IF EXISTS \(prefix)\(name) WITH (FORCE)", in: nil)
    }

    /// Runs one statement in the phase's database (nil: the server's `postgres` database).
    func execute(_ sql: String, in name: String?) async throws {
        try await withConnection(name) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    /// The first column of the first row of `sql`, as an integer.
    func scalar(_ sql: String, in name: String) async throws -> Int {
        try await withConnection(name) { connection in
            var value = 0
            for try await (result) in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                .decode(Int.self)
            {
                value = result
            }
            return value
        }
    }

    private func withConnection<T>(_ name: String?, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password,
            database: name.map { prefix + $0 } ?? "postgres", tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let value = try await body(connection)
            try await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
