import Metrics

/// The server's metrics through swift-metrics; the executable bootstraps a Prometheus
/// factory and `/metrics` renders it. Metric objects are created once, not per request.
public struct ServerMetrics: Sendable {
    let registers: Counter
    let renews: Counter
    let deregisters: Counter
    let renewsNotFound: Counter
    let commitLatency: Timer
    let getHits: Counter
    let getMisses: Counter
    let liveServices: Gauge
    let rejected: Counter
    let unavailable: Counter
    /// The log writer's commits, brought up to date at each scrape.
    let logWrites: LogWriteMetrics
    /// `tunnel_registry_request_duration_seconds{front,call}` by front, then by call.
    private let requestLatencies: [[Timer]]

    /// The fronts, as the `front` label names them.
    enum Front: Int, CaseIterable {
        case http, grpc

        var label: String { self == .http ? "http" : "grpc" }
    }

    /// The request kinds timed by `tunnel_registry_request_duration_seconds{front,call}`.
    enum Call: Int, CaseIterable {
        case register, renew, deregister, get, other

        var label: String { "\(self)" }
    }

    public init() {
        let events = "tunnel_registry_events_total"
        registers = Counter(label: events, dimensions: [("kind", "register")])
        renews = Counter(label: events, dimensions: [("kind", "renew")])
        deregisters = Counter(label: events, dimensions: [("kind", "deregister")])
        renewsNotFound = Counter(label: "tunnel_registry_renew_not_found_total")
        commitLatency = Timer(label: "tunnel_registry_commit_duration_seconds")
        getHits = Counter(label: "tunnel_registry_get_total", dimensions: [("result", "hit")])
        getMisses = Counter(label: "tunnel_registry_get_total", dimensions: [("result", "miss")])
        liveServices = Gauge(label: "tunnel_registry_live_services")
        rejected = Counter(label: "tunnel_registry_rejected_requests_total")
        unavailable = Counter(label: "tunnel_registry_unavailable_total")
        logWrites = LogWriteMetrics()
        requestLatencies = Front.allCases.map { front in
            Call.allCases.map { call in
                Timer(
                    label: "tunnel_registry_request_duration_seconds",
                    dimensions: [("front", front.label), ("call", call.label)]
                )
            }
        }
    }

    /// Records how long one request took on `front` for `call` (two array reads, no key built).
    func recordRequest(_ front: Front, _ call: Call, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        requestLatencies[front.rawValue][call.rawValue].recordNanoseconds(elapsed.nanoseconds)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue + attoseconds / 1_000_000_000
    }
}
