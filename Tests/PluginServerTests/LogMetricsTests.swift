import Foundation
import NIOHTTP1
import Testing

/// `/metrics` shows the log writer's commits: how many, their records, and the time they took.
@Suite struct LogMetricsTests {
    @Test func eachDurableWriteIsOneCommitOfOneRecord() async throws {
        // Proves the log counters follow the writes between two scrapes: five renews, each its own
        // commit of one record with time spent on it, and a Get that adds nothing.
        let server = try await ServerProcess.start(arguments: ["--lease-ttl", "1h"])
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        let before = try await Self.logCounters(http)
        #expect(before.commits >= 2, "the start record and the register are commits: \(before)")
        #expect(before.records >= before.commits)
        for _ in 0..<5 { #expect(try await http.renew(id: "a", name: "t").status == 200) }
        _ = try await http.get(name: "t")
        let after = try await Self.logCounters(http)
        #expect(after.commits - before.commits == 5)
        #expect(after.records - before.records == 5)
        #expect(after.seconds > before.seconds)
    }

    /// The three log counters from one scrape of `/metrics`.
    static func logCounters(_ http: HTTPCalls) async throws -> (commits: Double, records: Double, seconds: Double) {
        let text = try await http.send(.GET, at: "/metrics").body
        func value(_ series: String) throws -> Double {
            let line = text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
            return try #require(line.flatMap { Double($0.dropFirst(series.count + 1)) }, "no \(series) in \(text)")
        }
        return (
            try value("tunnel_registry_log_commits_total"), try value("tunnel_registry_log_committed_records_total"),
            try value("tunnel_registry_log_commit_seconds_total")
        )
    }
}
