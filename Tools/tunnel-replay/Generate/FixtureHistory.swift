import Registry

/// The scripted history behind `Fixtures/replay/healthy` (its README lists the known answers).
///
/// Seconds after 2026-11-26T03:00:00Z, lease TTL 45 s, renews every 15 s:
/// - `web` runs on two nodes: web-a1 on node-a (0 s, deregisters at 400 s, reconnects as
///   web-a2 at 401 s) and web-b1 on node-b (1 s).
/// - node-b crashes after its renews at 61/62 s: web-b1 and db-b1 expire at 106/107 s
///   (swept half a second later); node-b comes back as node-c at 120/121 s.
/// - api-a1 (node-a) loses its renews after 78 s (a partition): expires at 123 s, then a
///   renew at 138 s revives it.
/// - flappy connects five times between 200 s and 340 s (four reconnects within 10 minutes).
/// - a renew and a deregister of a never-seen service at 205/206 s (logged, not found).
/// The history ends at 450 s; the snapshot is taken after the last event at or before 250 s.
enum FixtureHistory {
    static let origin: Int64 = 1_795_662_000_000_000
    static let endSeconds: Double = 450
    static let snapshotAfterSeconds: Double = 250

    static func service(
        _ id: String,
        _ name: String,
        _ node: String,
        _ network: String = "tcp",
        port: Int = 80
    )
        -> Service
    {
        let host = node == "node-a" ? "10.0.0.1" : "10.0.0.2"
        return Service(id: id, name: name, node: node, network: network, address: "\(host):\(port)")
    }

    static func peer(_ node: String) -> String {
        node == "node-a" ? "10.0.0.1:40001" : (node == "node-b" ? "10.0.0.2:40002" : "10.0.0.2:40003")
    }

    static func events() -> [RegistryEvent] {
        var history = HistoryBuilder(originMicroseconds: origin)
        history.start(at: 0, leaseTTLSeconds: 45)
        let webA1 = service("web-a1", "web", "node-a")
        let webB1 = service("web-b1", "web", "node-b")
        let dbB1 = service("db-b1", "db", "node-b", "udp", port: 53)
        let apiA1 = service("api-a1", "api", "node-a", port: 8080)
        history.register(webA1, at: 0, peer: peer("node-a"))
        history.renews(webA1, first: 15, every: 15, through: 390, peer: peer("node-a"))
        history.deregister(webA1, at: 400, peer: peer("node-a"))
        let webA2 = service("web-a2", "web", "node-a")
        history.register(webA2, at: 401, peer: peer("node-a"))
        history.renews(webA2, first: 416, every: 15, through: endSeconds, peer: peer("node-a"))

        history.register(webB1, at: 1, peer: peer("node-b"))
        history.renews(webB1, first: 16, every: 15, through: 61, peer: peer("node-b"))
        history.register(dbB1, at: 2, peer: peer("node-b"))
        history.renews(dbB1, first: 17, every: 15, through: 62, peer: peer("node-b"))
        history.expire(webB1, lapsedAt: 106, at: 106.5)
        history.expire(dbB1, lapsedAt: 107, at: 107.5)
        let webC1 = service("web-c1", "web", "node-c")
        let dbC1 = service("db-c1", "db", "node-c", "udp", port: 53)
        history.register(webC1, at: 120, peer: peer("node-c"))
        history.renews(webC1, first: 135, every: 15, through: endSeconds, peer: peer("node-c"))
        history.register(dbC1, at: 121, peer: peer("node-c"))
        history.renews(dbC1, first: 136, every: 15, through: endSeconds, peer: peer("node-c"))

        history.register(apiA1, at: 3, peer: peer("node-a"))
        history.renews(apiA1, first: 18, every: 15, through: 78, peer: peer("node-a"))
        history.expire(apiA1, lapsedAt: 123, at: 123.5)
        history.renews(apiA1, first: 138, every: 15, through: endSeconds, peer: peer("node-a"))

        let flaps: [(Double, Double?)] = [(200, 230), (240, 260), (270, 300), (310, 330), (340, nil)]
        for (index, (start, end)) in flaps.enumerated() {
            let flap = service("flap-\(index + 1)", "flappy", "node-a", port: 9000)
            history.register(flap, at: start, peer: peer("node-a"))
            history.renews(
                flap,
                first: start + 15,
                every: 15,
                through: (end ?? endSeconds + 1) - 1,
                peer: peer("node-a")
            )
            if let end { history.deregister(flap, at: end, peer: peer("node-a")) }
        }
        let ghost = service("ghost-1", "ghost", "node-a")
        history.renew(ghost, at: 205, peer: peer("node-a"))
        history.deregister(ghost, at: 206, peer: peer("node-a"))
        return history.ordered
    }
}
