import BenchSupport

/// The registry's log counters (`tunnel_registry_log_*` on `/metrics`) read before and after a
/// run: how many renews shared each commit, what a commit (write and fdatasync) took, and the
/// renews/s that such commits allow at most.
struct LogCommits {
    var commits: Double
    var records: Double
    var seconds: Double

    /// The counters now.
    static func read(at address: String) throws -> LogCommits {
        let text = try MiniHTTP(address).request("GET", "/metrics").body
        func value(_ series: String) -> Double {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(series + " ") }) else { return 0 }
            return Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return LogCommits(
            commits: value("tunnel_registry_log_commits_total"),
            records: value("tunnel_registry_log_committed_records_total"),
            seconds: value("tunnel_registry_log_commit_seconds_total"))
    }

    /// What the log did between `earlier` and now.
    func since(_ earlier: LogCommits) -> LogCommits {
        LogCommits(commits: commits - earlier.commits, records: records - earlier.records, seconds: seconds - earlier.seconds)
    }

    /// Records per commit: how many writes shared one write and fdatasync.
    var recordsPerCommit: Double { commits > 0 ? records / commits : 0 }

    /// Milliseconds per commit.
    var millisecondsPerCommit: Double { commits > 0 ? seconds * 1_000 / commits : 0 }

    /// Renews/s at most with `inFlight` renews outstanding: each waits at least for its own commit,
    /// so at best all of them share every commit and commits follow each other without a gap.
    func bound(inFlight: Int) -> Double {
        millisecondsPerCommit > 0 ? Double(inFlight) * 1_000 / millisecondsPerCommit : 0
    }

    /// One line for a round: records per commit, time per commit, and the bound.
    func describe(inFlight: Int) -> String {
        "log \(format(recordsPerCommit, 1)) renews/commit \(format(millisecondsPerCommit, 2)) ms/commit "
            + "(bound \(Int(bound(inFlight: inFlight).rounded()))/s)"
    }
}
