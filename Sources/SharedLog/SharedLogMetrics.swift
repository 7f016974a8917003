import Metrics

/// The shared log's metrics (swift-metrics; the server exports them on /metrics).
struct SharedLogMetrics: Sendable {
    /// Seconds between a batch's commit and its delivery by the tail (0 when caught up).
    private let tailLagSeconds = Gauge(label: "tunnel_registry_tail_lag_seconds")
    /// Records committed in the shared log and not yet delivered by the tail.
    private let tailLagRecords = Gauge(label: "tunnel_registry_tail_lag_records")
    /// 1 while this instance leads the sweeper, else 0.
    private let leader = Gauge(label: "tunnel_registry_sweeper_leader")
    /// Failed statements and connection attempts.
    private let databaseErrors = Counter(label: "tunnel_registry_database_errors_total")

    func databaseError() { databaseErrors.increment() }
    func leading(_ isLeader: Bool) { leader.record(isLeader ? 1 : 0) }
    func tailLag(seconds: Double) { tailLagSeconds.record(seconds) }
    func tailLag(records: UInt64) { tailLagRecords.record(Double(records)) }
}
