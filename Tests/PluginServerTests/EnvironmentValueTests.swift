import Foundation
import NIOHTTP1
import Testing

/// `TUNNEL_REGISTRY_<OPTION>` values are taken as they are, whatever their first character.
@Suite struct EnvironmentValueTests {
    @Test func tokenStartingWithADashFromTheEnvironment() async throws {
        // Proves TUNNEL_REGISTRY_TOKEN=-dash-token starts the server with that token instead of
        // failing to parse (the value was passed as a separate argument and read as an option).
        let server = try await ServerProcess.start(environment: ["TUNNEL_REGISTRY_TOKEN": "-dash-token"])
        defer { server.cleanUp() }
        let open = HTTPCalls(base: server.httpBase)
        #expect(try await open.register(id: "a", name: "t", address: "10.0.0.1:80").status == 401)
        let authorized = HTTPCalls(base: server.httpBase, token: "-dash-token")
        #expect(try await authorized.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
    }
}
