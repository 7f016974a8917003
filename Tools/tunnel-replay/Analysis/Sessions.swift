import Registry

/// How a connector session ended.
enum SessionEnd: String, Sendable, Equatable {
    case deregister, expire
    /// Still up at the end of the scanned range.
    case live
}

/// One connector session: from a Register (or a revive) to its Deregister, expiry, or now.
struct Session: Sendable, Equatable {
    var id: String
    var name: String
    var node: String
    var network: String
    var address: String
    var startMicroseconds: Int64
    /// nil while live.
    var endMicroseconds: Int64?
    var end: SessionEnd
    var renews: Int
    /// The longest time between two consecutive Register/Renew/Deregister of this session.
    var maxGapMicroseconds: Int64
    /// The sequence of the event that started it (orders sessions that start together).
    var startSequence: UInt64
    var lastActivityMicroseconds: Int64

    /// Sessions by start, then the starting event's sequence, then name and id (sessions
    /// already open at a `--since` share sequence 0 and may share a start).
    static func ordered(_ lhs: Session, _ rhs: Session) -> Bool {
        (lhs.startMicroseconds, lhs.startSequence, lhs.name, lhs.id)
            < (rhs.startMicroseconds, rhs.startSequence, rhs.name, rhs.id)
    }

    /// True when the session overlaps [since, until] (either bound may be open).
    func overlaps(since: Int64?, until: Int64?) -> Bool {
        if let until, startMicroseconds > until { return false }
        if let since, let endMicroseconds, endMicroseconds < since { return false }
        return true
    }
}

/// A service's identity in the registry: (name, id).
struct ServiceKey: Hashable, Sendable {
    var name: String
    var id: String
}

/// Splits the event stream into connector sessions by folding it through the Registry's own
/// `Projection` and reading what each record did (`ApplyEffect`): a session starts at a
/// Register or a revive and ends at a Deregister, at the instant its lease lapsed, or is live.
/// The tool never decides expiry or revival itself.
struct SessionTracker {
    private(set) var projection = Projection()
    private(set) var open: [ServiceKey: Session] = [:]
    private(set) var closed: [Session] = []
    /// The shortest lease TTL the fold has had in force (see `apply`).
    private var shortestLeaseTTLMicroseconds = Projection.defaultLeaseTTLMicroseconds

    /// Folds one event; returns the sessions it closed (a revive of an unswept lease closes one).
    @discardableResult
    mutating func apply(_ event: RegistryEvent) -> Session? {
        let key = ServiceKey(name: event.service.name, id: event.service.id)
        let openIndex = event.kind.isServiceEvent ? open.index(forKey: key) : nil
        // A renew can revive a lease that lapsed unswept; the lapse instant is the lease's expiry
        // before the fold. No lease lapses sooner than the shortest TTL after its last renew, so
        // the lookup is skipped for the common, timely renew.
        var leaseBefore: LiveService?
        if event.kind == .renew, let openIndex,
            event.timeMicroseconds - open.values[openIndex].lastActivityMicroseconds >= shortestLeaseTTLMicroseconds
        {
            leaseBefore = projection.liveEntry(name: key.name, id: key.id)
        }
        let effect = projection.apply(event)
        shortestLeaseTTLMicroseconds = min(shortestLeaseTTLMicroseconds, projection.leaseTTLMicroseconds)
        switch effect {
        case .registered:
            if var session = open[key] {
                session.recordActivity(at: event.timeMicroseconds)
                session.node = event.service.node
                session.network = event.service.network
                session.address = event.service.address
                open[key] = session
            } else {
                open[key] = Session(starting: event, from: event.service)
            }
        case .renewed:
            guard let openIndex else {
                open[key] = Session(starting: event, from: liveService(key) ?? event.service)
                return nil
            }
            open.values[openIndex].recordActivity(at: event.timeMicroseconds)
            open.values[openIndex].renews += 1
        case .revived:
            var ended: Session?
            if let session = open.removeValue(forKey: key) {
                let lapse = leaseBefore?.leaseExpiresAtMicroseconds ?? event.timeMicroseconds
                ended = close(session, at: lapse, reason: .expire)
            }
            open[key] = Session(starting: event, from: liveService(key) ?? event.service)
            return ended
        case .deregistered:
            guard var session = open.removeValue(forKey: key) else { return nil }
            session.recordActivity(at: event.timeMicroseconds)
            return close(session, at: event.timeMicroseconds, reason: .deregister)
        case .expired:
            guard let session = open.removeValue(forKey: key) else { return nil }
            let lapse = projection.lapsedEntry(name: key.name, id: key.id)?.lapsedAtMicroseconds
            return close(session, at: lapse ?? event.lapsedAtMicroseconds ?? event.timeMicroseconds, reason: .expire)
        case .notFound, .expireIgnored, .leasesRefreshed:
            return nil
        }
        return nil
    }

    private func liveService(_ key: ServiceKey) -> Service? {
        projection.liveEntry(name: key.name, id: key.id)?.service
    }

    private mutating func close(_ session: Session, at time: Int64, reason: SessionEnd) -> Session {
        var ended = session
        ended.endMicroseconds = time
        ended.end = reason
        closed.append(ended)
        return ended
    }

    /// Closed and still-open sessions in `Session.ordered` order.
    func allSessions() -> [Session] {
        (closed + open.values).sorted(by: Session.ordered)
    }

    init() {}

    /// A tracker that continues from `projection` (the registry as it stood at `instant`): every
    /// lease in it (of tunnel `name` only, when given; of the partition's tunnels only, when
    /// given) is an open session that started at its registration, with renews and longest gap
    /// counted from `instant` on.
    init(continuing projection: Projection, at instant: Int64, name: String?, partition: SessionPartition? = nil) {
        self.projection = projection
        shortestLeaseTTLMicroseconds = min(shortestLeaseTTLMicroseconds, projection.leaseTTLMicroseconds)
        let leases = name.map { projection.liveServices(named: $0, at: .min) } ?? projection.liveServices(at: .min)
        for lease in leases where partition?.owns(name: lease.service.name) ?? true {
            let key = ServiceKey(name: lease.service.name, id: lease.service.id)
            open[key] = Session(
                id: lease.service.id,
                name: lease.service.name,
                node: lease.service.node,
                network: lease.service.network,
                address: lease.service.address,
                startMicroseconds: lease.registeredAtMicroseconds,
                endMicroseconds: nil,
                end: .live,
                renews: 0,
                maxGapMicroseconds: 0,
                startSequence: 0,
                lastActivityMicroseconds: lease.lastRenewAtMicroseconds
            )
        }
    }

    /// Sessions of a whole event array (pure: what the tests call).
    static func sessions(of events: [RegistryEvent]) -> [Session] {
        var tracker = SessionTracker()
        for event in events { tracker.apply(event) }
        return tracker.allSessions()
    }
}

extension Session {
    init(starting event: RegistryEvent, from service: Service) {
        self.init(
            id: service.id,
            name: service.name,
            node: service.node,
            network: service.network,
            address: service.address,
            startMicroseconds: event.timeMicroseconds,
            endMicroseconds: nil,
            end: .live,
            renews: 0,
            maxGapMicroseconds: 0,
            startSequence: event.sequence,
            lastActivityMicroseconds: event.timeMicroseconds
        )
    }

    var service: Service {
        Service(id: id, name: name, node: node, network: network, address: address)
    }

    mutating func recordActivity(at time: Int64) {
        maxGapMicroseconds = max(maxGapMicroseconds, time - lastActivityMicroseconds)
        lastActivityMicroseconds = time
    }
}
