import Foundation
import Testing

/// Real `tunnel-registry` processes in cluster mode on one throwaway PostgreSQL, talking HTTP.
@Suite(.serialized, needsPostgres) struct ClusterServerTests {
    // Proves two instances share one history: a register on A is answered by B's Get, a renew
    // on B keeps it, and a deregister on A removes it from B.
    @Test func twoInstancesShareOneHistory() async throws {
        let database = try await PostgresServer.start()
        let a = try await RegistryProcess.start(postgres: database.url(database: "registry"), instance: "a")
        let b = try await RegistryProcess.start(postgres: database.url(database: "registry"), instance: "b")
        defer {
            a.stop()
            b.stop()
        }
        let body = #"{"id":"c1","name":"tunnel-1","node":"node-a","network":"tcp","address":"10.0.0.1:80"}"#
        #expect(try await a.call("POST", body: body).status == 200)
        let seen = try await eventually(seconds: 30) {
            try await b.call("GET", query: "?name=tunnel-1").text.contains("\"c1\"")
        }
        #expect(seen, "instance b answers a's register")
        #expect(try await b.call("PUT", body: #"{"id":"c1","name":"tunnel-1","node":"node-a"}"#).status == 200)
        #expect(try await a.call("DELETE", body: #"{"id":"c1","name":"tunnel-1","node":"node-a"}"#).status == 200)
        let gone = try await eventually(seconds: 30) {
            try await b.call("GET", query: "?name=tunnel-1").text == #"{"services":[]}"#
        }
        #expect(gone, "a's deregister removed it from b")
        await database.stop()
    }

    // Proves a bad --postgres URL and an unreachable database stop the start with one clear
    // line naming what failed, and a non-zero exit code.
    @Test func badDatabaseFailsWithOneLine() async throws {
        let badURL = try await RegistryProcess.run(postgres: "mysql://nobody@127.0.0.1/x")
        #expect(badURL.status != 0)
        #expect(badURL.stderr.contains("PostgreSQL URL"), "\(badURL.stderr)")
        let port = try freeLoopbackPort()
        let down = try await RegistryProcess.run(postgres: "postgres://u:p@127.0.0.1:\(port)/registry?sslmode=disable")
        #expect(down.status != 0)
        #expect(down.stderr.contains("127.0.0.1:\(port)") && down.stderr.contains("registry"), "\(down.stderr)")
        #expect(!down.stderr.contains("p@"), "the password is not printed")
    }
}
