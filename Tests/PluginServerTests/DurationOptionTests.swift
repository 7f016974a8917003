import Foundation
import Testing

/// Durations on the command line in Go's form (GOST's own settings use it), on the real server.
@Suite struct DurationOptionTests {
    @Test func compoundDurationsSetTheLeaseAndFsyncInterval() async throws {
        // Proves `--lease-ttl 1m30s` grants a 90 s lease and `--fsync interval:1s500ms` is taken.
        let server = try await ServerProcess.start(arguments: ["--lease-ttl", "1m30s", "--fsync", "interval:1s500ms"])
        defer { server.cleanUp() }
        let logged = try await eventually { server.stderr.contains("lease.ttl.us=90000000") }
        #expect(logged, "stderr: \(server.stderr)")
        #expect(server.stderr.contains("interval(milliseconds: 1500)"), "stderr: \(server.stderr)")
    }

    @Test(arguments: ["1h30x", "30", "0s", "1.5.5s", "s"])
    func malformedDurationsAreRefused(_ text: String) async throws {
        // Proves a duration that is not one stops the start with a usage error naming the option.
        let server = try await ServerProcess.start(arguments: ["--lease-ttl", text], waitForReady: false)
        defer { server.cleanUp() }
        let (status, bySignal) = try await server.waitForExit()
        #expect(!bySignal)
        #expect(status == 64)
        #expect(server.stderr.contains("--lease-ttl \(text) is not a duration"), "stderr: \(server.stderr)")
    }
}
