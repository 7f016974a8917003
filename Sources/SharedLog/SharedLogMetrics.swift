import Metrics

/// The shared log's metrics (swift-metrics; the server exports them on /metrics).
struct SharedLogMetrics: Sendable {
    /// Seconds between a batch's commit and its delivery by the tail (0 when caught up).
    let tailLagSeconds = Gauge(label: "tunnel_registry_tail_lag_seconds")
    /// Records committed in the shared log and not yet delivered by the tail.
    let tailLagRecords = Gauge(label: "tunnel_registry_tail_lag_records")
    /// 1 while this instance leads the sweeper, else 0.
    let leader = Gauge(label: "tunnel_registry_sweeper_leader")
    /// Failed statements and connection attempts.
    let databaseErrors = Counter(label: "tunnel_registry_database_errors_total")
}
