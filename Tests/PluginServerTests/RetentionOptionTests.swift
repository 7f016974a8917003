import Foundation
import Testing

/// `--retention` (env `TUNNEL_REGISTRY_RETENTION`) on the real binary.
@Suite struct RetentionOptionTests {
    @Test func retentionInDaysFromTheEnvironmentStarts() async throws {
        // Proves a retention in days, given by the environment variable, is accepted and the server serves.
        let server = try await ServerProcess.start(environment: ["TUNNEL_REGISTRY_RETENTION": "30d"])
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        let (status, _) = try await server.stop(signal: SIGTERM)
        #expect(status == 0)
    }

    @Test(arguments: [["--retention", "5x"], ["--retention", "0s"], ["--retention", "1d", "--postgres", "postgres://x"]])
    func unusableRetentionExitsWithAMessage(arguments: [String]) async throws {
        // Proves a retention that is no duration, zero, or combined with the shared log stops the start naming --retention.
        let server = try await ServerProcess.start(arguments: arguments, waitForReady: false)
        defer { server.cleanUp() }
        let (status, _) = try await server.waitForExit()
        #expect(status != 0)
        #expect(server.stderr.contains("--retention"), "stderr: \(server.stderr)")
    }
}
