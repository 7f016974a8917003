/// The `# HELP` text of every series the server exports. swift-metrics carries no help text,
/// so `/metrics` inserts these lines before each family's `# TYPE` line. README.md's metrics
/// table lists the same series; a test holds the three together.
public enum MetricsHelp {
    /// Help text by metric family name.
    public static let text: [String: String] = [
        "tunnel_registry_events_total":
            "Accepted register, renew and deregister calls, by kind (each one event in the log).",
        "tunnel_registry_renew_not_found_total": "Renews of services not registered (answered 404 / ok: false).",
        "tunnel_registry_commit_duration_seconds": "Time for a write to become durable (log append and fsync).",
        "tunnel_registry_live_services": "Unexpired services, updated at each scrape.",
        "tunnel_registry_get_total": "Get calls that found services (hit) or none (miss).",
        "tunnel_registry_request_duration_seconds": "Request latency by front (http, grpc) and call.",
        "tunnel_registry_rejected_requests_total": "Requests refused as invalid (never logged as events).",
        "tunnel_registry_unavailable_total": "Writes answered 503 / UNAVAILABLE (log not writable, or not ready).",
        "tunnel_registry_log_records_total":
            "Records folded into the registry while serving, by kind (expire, start, stall included).",
        "tunnel_registry_log_commits_total":
            "Commits the local log writer wrote, each one write and, with --fsync always, one fdatasync (0 in cluster mode).",
        "tunnel_registry_log_committed_records_total":
            "Records in those commits; divided by the commits, the group commit's size.",
        "tunnel_registry_log_commit_seconds_total":
            "Time the local log writer spent encoding, compressing, writing and syncing commits.",
        "tunnel_registry_snapshots_total": "Snapshots written and failed, by result.",
        "tunnel_registry_tail_lag_seconds":
            "Cluster mode: age of the newest shared-log batch this instance has not folded yet (0 when caught up).",
        "tunnel_registry_tail_lag_records": "Cluster mode: shared-log records committed but not yet folded here.",
        "tunnel_registry_sweeper_leader": "Cluster mode: 1 while this instance leads the lease sweeper, else 0.",
        "tunnel_registry_database_errors_total": "Cluster mode: failed PostgreSQL operations (connects, statements).",
    ]

    /// `exposition` (Prometheus text) with a `# HELP` line before every `# TYPE` line that has none.
    public static func annotate(_ exposition: String) -> String {
        var out = ""
        out.reserveCapacity(exposition.utf8.count + 2048)
        var lastHelp: Substring?
        for line in exposition.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# HELP ") {
                lastHelp = line.dropFirst("# HELP ".count).split(separator: " ").first
            } else if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst("# TYPE ".count).split(separator: " ").first ?? ""
                if lastHelp != name, let help = text[String(name)] {
                    out += "# HELP \(name) \(help)\n"
                }
                lastHelp = nil
            }
            out += line
            out += "\n"
        }
        if out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }
}
