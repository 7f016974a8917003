import Registry
import Testing

@testable import SharedLog

/// Opening the store against a database that cannot be used gives one clear line naming host and database.
@Suite(needsPostgres, .timeLimit(.minutes(3))) struct ConnectionErrorTests {
    /// The checks every connection error passes: one line, host:port and database named, no framework types.
    private func expectClear(_ error: SharedLogError, host: String, database: String) {
        #expect(!error.description.contains("\n"), "\(error)")
        #expect(error.description.contains(host), "\(error)")
        #expect(error.description.contains("database \(database)"), "\(error)")
        for noise in ["PSQLError", "NIOConnectionError", "IOError", "ChannelError", "file:", "line:"] {
            #expect(!error.description.contains(noise), "\(error)")
        }
    }

    @Test func wrongPasswordNamesHostAndDatabase() async throws {
        // A wrong password is an authentication error naming host, database and user, not a stack of framework text.
        try await withPostgres { server in
            let url = "postgres://\(PostgresServer.passwordRole):wrong@127.0.0.1:\(server.port)/registry?sslmode=disable"
            do {
                _ = try await SharedEventStore.open(.init(url: url, instance: "a"), logger: testLogger)
                Issue.record("opened with a wrong password")
            } catch let error as SharedLogError {
                #expect(error.kind == .authentication)
                expectClear(error, host: "127.0.0.1:\(server.port)", database: "registry")
                #expect(error.description.contains("password"))
            }
            // The right password opens (the role exists and password authentication works).
            let right = "postgres://\(PostgresServer.passwordRole):\(PostgresServer.password)@127.0.0.1:\(server.port)/registry?sslmode=disable"
            let store = try await SharedEventStore.open(.init(url: right, instance: "a"), logger: testLogger)
            try await store.close()
        }
    }

    @Test func databaseDownNamesHostAndDatabase() async throws {
        // With PostgreSQL stopped, open fails at once with one line naming host and database.
        try await withPostgres { server in
            try await server.stopServer()
            let start = ContinuousClock.now
            do {
                _ = try await SharedEventStore.open(testConfiguration(server, instance: "a"), logger: testLogger)
                Issue.record("opened a stopped database")
            } catch let error as SharedLogError {
                #expect(error.kind == .unavailable)
                expectClear(error, host: "127.0.0.1:\(server.port)", database: "registry")
            }
            #expect(ContinuousClock.now - start < .seconds(10))
        }
    }

    @Test func missingDatabaseSaysHowToCreateIt() async throws {
        // A database that does not exist is named, with the createdb command that fixes it.
        try await withPostgres { server in
            do {
                _ = try await SharedEventStore.open(
                    testConfiguration(server, instance: "a", database: "nowhere"), logger: testLogger)
                Issue.record("opened a missing database")
            } catch let error as SharedLogError {
                expectClear(error, host: "127.0.0.1:\(server.port)", database: "nowhere")
                #expect(error.description.contains("createdb nowhere"))
            }
        }
    }

    @Test func badURLIsOneLine() async throws {
        // A URL without a host fails before any connection, in one line.
        do {
            _ = try await SharedEventStore.open(.init(url: "postgres://u@:5432/db", instance: "a"), logger: testLogger)
            Issue.record("opened a URL without host")
        } catch let error as SharedLogError {
            #expect(error.kind == .invalidURL)
            #expect(!error.description.contains("\n"))
        }
    }
}
