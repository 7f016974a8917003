import Foundation
import NIOHTTP1
import Testing

/// Get's `?name=` read as GOST's Go client writes it (`url.Values.Encode`, form encoding).
@Suite struct GetQueryTests {
    @Test func plusIsASpaceAndPercentTwoBIsAPlus() async throws {
        // Proves `?name=a+b` finds the tunnel named "a b" (Go encodes a space as +) and
        // `?name=a%2Bb` the tunnel named "a+b", never the other one.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "space", name: "a b", address: "10.0.0.1:80").status == 200)
        #expect(try await http.register(id: "plus", name: "a+b", address: "10.0.0.2:80").status == 200)
        let spaced = try await http.send(.GET, query: "?name=a+b")
        #expect(spaced.status == 200)
        #expect(spaced.services.map { $0["id"] } == ["space"], "reply: \(spaced.body)")
        let plussed = try await http.send(.GET, query: "?name=a%2Bb")
        #expect(plussed.services.map { $0["id"] } == ["plus"], "reply: \(plussed.body)")
        let escapedSpace = try await http.send(.GET, query: "?name=a%20b")
        #expect(escapedSpace.services.map { $0["id"] } == ["space"], "reply: \(escapedSpace.body)")
    }

    @Test func routerNameAndOtherParameters() async throws {
        // Proves a router handler's name (`gateway@routerID`, `@` escaped by Go) is found with
        // other parameters around it, and a malformed escape is refused as a name not found.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "c", name: "gateway@r1", address: "10.0.0.1:80").status == 200)
        let found = try await http.send(.GET, query: "?x=1&name=gateway%40r1&y=2")
        #expect(found.services.map { $0["id"] } == ["c"], "reply: \(found.body)")
        let malformed = try await http.send(.GET, query: "?name=gateway%4")
        #expect(malformed.status == 200)
        #expect(malformed.services.isEmpty)
    }
}
