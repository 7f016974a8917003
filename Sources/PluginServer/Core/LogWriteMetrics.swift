import Metrics
import Registry
import Synchronization

/// The log writer's totals as Prometheus counters, brought up to date at each scrape:
/// `tunnel_registry_log_commits_total`, `..._log_committed_records_total` and
/// `..._log_commit_seconds_total`. From them, records per commit (the group commit's size) and
/// time per commit (write and fdatasync) over any interval.
final class LogWriteMetrics: Sendable {
    private let commits = Counter(label: "tunnel_registry_log_commits_total")
    private let records = Counter(label: "tunnel_registry_log_committed_records_total")
    private let seconds = FloatingPointCounter(label: "tunnel_registry_log_commit_seconds_total")
    /// The totals the counters show now.
    private let reported = Mutex(StoreWriteStatistics())

    /// Adds to each counter what `totals` has beyond what it shows. A total below the one shown
    /// (read while the store swapped writers) adds nothing, so a counter never counts twice.
    func update(to totals: StoreWriteStatistics) {
        let added = reported.withLock { shown -> StoreWriteStatistics in
            let added = StoreWriteStatistics(
                commits: Self.growth(totals.commits, over: shown.commits),
                records: Self.growth(totals.records, over: shown.records),
                commitNanoseconds: Self.growth(totals.commitNanoseconds, over: shown.commitNanoseconds))
            shown = StoreWriteStatistics(
                commits: max(shown.commits, totals.commits), records: max(shown.records, totals.records),
                commitNanoseconds: max(shown.commitNanoseconds, totals.commitNanoseconds))
            return added
        }
        if added.commits > 0 { commits.increment(by: Int64(clamping: added.commits)) }
        if added.records > 0 { records.increment(by: Int64(clamping: added.records)) }
        if added.commitNanoseconds > 0 { seconds.increment(by: Double(added.commitNanoseconds) / 1e9) }
    }

    /// How far `total` is above `shown`; zero when it is not.
    private static func growth(_ total: UInt64, over shown: UInt64) -> UInt64 {
        total > shown ? total - shown : 0
    }
}
