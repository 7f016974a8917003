import Registry
import Testing

@testable import SharedLog

/// The schema is created at open, opened again unchanged, and a newer one is refused.
@Suite(needsPostgres, .timeLimit(.minutes(3))) struct SchemaTests {
    @Test func createdOnceAndReopened() async throws {
        // Two instances opening together create the schema once; the version table says 1.
        try await withPostgres { server in
            try await withStores(server, ["a", "b"]) { _ in }
            try await withStores(server, ["c"]) { _ in }
            let versions = try await server.psql("SELECT string_agg(version::text, ',') FROM tunnel_registry.schema_version", database: "registry")
            #expect(versions == "1")
            let tables = try await server.psql(
                "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'tunnel_registry'",
                database: "registry")
            #expect(tables == "log_batch,log_head,schema_version,snapshot")
        }
    }

    @Test func newerSchemaIsRefusedClearly() async throws {
        // A database migrated by a newer build is refused with one line naming both versions, host and database.
        try await withPostgres { server in
            try await withStores(server, ["a"]) { _ in }
            try await server.psql("INSERT INTO tunnel_registry.schema_version (version) VALUES (99)", database: "registry")
            do {
                _ = try await SharedEventStore.open(testConfiguration(server, instance: "a"), logger: testLogger)
                Issue.record("opened a newer schema")
            } catch let error as SharedLogError {
                #expect(error.kind == .schemaTooNew)
                #expect(error.description.contains("version 99"))
                #expect(error.description.contains("127.0.0.1:\(server.port)"))
                #expect(error.description.contains("database registry"))
                #expect(!error.description.contains("\n"))
            }
            do {
                _ = try await SharedLogReader.open(url: server.url(database: "registry"), logger: testLogger)
                Issue.record("the reader opened a newer schema")
            } catch let error as SharedLogError {
                #expect(error.kind == .schemaTooNew)
            }
        }
    }
}
