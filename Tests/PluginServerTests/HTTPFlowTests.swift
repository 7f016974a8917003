import NIOHTTP1
import SwiftProtobuf
import Testing

/// GOST's HTTP plugin flow against the real server process.
@Suite struct HTTPFlowTests {
    static let connector = "c23d4f42-c892-42b3-8b74-88ab6455d33a"
    static let tunnel = "c9ef8f8c-d687-4dca-be7a-1467b6565404"
    static let node = "db670b91-61a5-4f7c-8014-3bbe994446ea"

    @Test func registerGetRenewDeregisterLikeTheGOSTPage() async throws {
        // Proves the curl flow of GOST's service-discovery page works byte for byte.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        let registered = try await http.register(
            id: Self.connector, name: Self.tunnel, node: Self.node, address: "10.42.0.100:80"
        )
        #expect(registered.status == 200)
        let got = try await http.get(name: Self.tunnel)
        #expect(got.status == 200)
        #expect(
            got.services == [
                [
                    "id": Self.connector, "name": Self.tunnel, "node": Self.node, "network": "tcp",
                    "address": "10.42.0.100:80",
                ]
            ]
        )
        #expect(try await http.renew(id: Self.connector, name: Self.tunnel, node: Self.node).status == 200)
        #expect(try await http.deregister(id: Self.connector, name: Self.tunnel, node: Self.node).status == 200)
        let after = try await http.get(name: Self.tunnel)
        #expect(after.status == 200)
        #expect(after.body == #"{"services":[]}"#)
    }

    @Test func requestsWithoutContentTypeWork() async throws {
        // Proves curl -d (form content type, as on GOST's page) is accepted: GOST's body is JSON regardless.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        let body = Array(#"{"id":"a","name":"t","node":"n","network":"udp","address":"10.0.0.1:53"}"#.utf8)
        let reply = try await http.send(
            .POST, body: body, headers: [("Content-Type", "application/x-www-form-urlencoded")]
        )
        #expect(reply.status == 200)
        #expect(try await http.get(name: "t").services.first?["network"] == "udp")
    }

    @Test func renewOfUnknownIs404AndDeregisterOfUnknownIs200() async throws {
        // Proves Renew of a never-seen service says not found, while Deregister stays idempotent.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        let renewed = try await http.renew(id: "never", name: "seen")
        #expect(renewed.status == 404)
        #expect(renewed.error?.contains("register") == true)
        #expect(try await http.deregister(id: "never", name: "seen").status == 200)
        #expect(try await http.get(name: "no-such-tunnel").body == #"{"services":[]}"#)
    }

    @Test func getWithoutNameIs400AndOtherMethodsAre405() async throws {
        // Proves Get needs a name and methods GOST never uses are refused with Allow.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.send(.GET).status == 400)
        #expect(try await http.send(.GET, query: "?name=").status == 400)
        let patch = try await http.send(.PATCH, body: Array("{}".utf8))
        #expect(patch.status == 405)
        #expect(patch.headers["Allow"].first == "GET, POST, PUT, DELETE")
        #expect(patch.error != nil)
        let unknown = try await http.send(.GET, at: "/nope")
        #expect(unknown.status == 404)
        #expect(unknown.error != nil)
        #expect(try await http.send(.POST, at: "/healthz").status == 405)
    }

    @Test func customHTTPPathIsServed() async throws {
        // Proves --http-path moves the plugin URL and the old path is no longer the plugin.
        let server = try await ServerProcess.start(arguments: ["--http-path", "/plugin/sd"])
        defer { server.cleanUp() }
        var http = HTTPCalls(base: server.httpBase)
        http.path = "/plugin/sd"
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        #expect(try await http.get(name: "t").services.count == 1)
        #expect(try await http.send(.GET, query: "?name=t", at: "/sd").status == 404)
    }
}
