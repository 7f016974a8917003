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
    /// The open session of each service: its index in `sessions`.
    private var open: [ServiceKey: Int] = [:]
    /// Every session started, closed ones with their end (updated in place: a renew copies nothing).
    private var sessions: [Session] = []
    /// The shortest lease TTL the fold has had in force (see `apply`).
    private var shortestLeaseTTLMicroseconds = Projection.defaultLeaseTTLMicroseconds

    /// Folds one event; returns the sessions it closed (a revive of an unswept lease closes one).
    @discardableResult
    mutating func apply(_ event: RegistryEvent) -> Session? {
        let key = ServiceKey(name: event.service.name, id: event.service.id)
        let openIndex = event.kind.isServiceEvent ? open[key] : nil
        // A renew can revive a lease that lapsed unswept; the lapse instant is the lease's expiry
        // before the fold. No lease lapses sooner than the shortest TTL after its last renew, so
        // the lookup is skipped for the common, timely renew.
        var leaseBefore: LiveService?
        if event.kind == .renew, let openIndex,
            event.timeMicroseconds - sessions[openIndex].lastActivityMicroseconds >= shortestLeaseTTLMicroseconds
        {
            leaseBefore = projection.liveEntry(name: key.name, id: key.id)
        }
        let effect = projection.apply(event)
        shortestLeaseTTLMicroseconds = min(shortestLeaseTTLMicroseconds, projection.leaseTTLMicroseconds)
        switch effect {
        case .registered:
            if let openIndex {
                sessions[openIndex].recordActivity(at: event.timeMicroseconds)
                sessions[openIndex].node = event.service.node
                sessions[openIndex].network = event.service.network
                sessions[openIndex].address = event.service.address
            } else {
                start(Session(starting: event, from: event.service), key)
            }
        case .renewed:
            guard let openIndex else {
                start(Session(starting: event, from: liveService(key) ?? event.service), key)
                return nil
            }
            sessions[openIndex].recordActivity(at: event.timeMicroseconds)
            sessions[openIndex].renews += 1
        case .revived:
            var ended: Session?
            if let openIndex {
                let lapse = leaseBefore?.leaseExpiresAtMicroseconds ?? event.timeMicroseconds
                ended = close(openIndex, key, at: lapse, reason: .expire)
            }
            start(Session(starting: event, from: liveService(key) ?? event.service), key)
            return ended
        case .deregistered:
            guard let openIndex else { return nil }
            sessions[openIndex].recordActivity(at: event.timeMicroseconds)
            return close(openIndex, key, at: event.timeMicroseconds, reason: .deregister)
        case .expired:
            guard let openIndex else { return nil }
            let lapse = projection.lapsedEntry(name: key.name, id: key.id)?.lapsedAtMicroseconds
            return close(
                openIndex, key, at: lapse ?? event.lapsedAtMicroseconds ?? event.timeMicroseconds, reason: .expire)
        case .notFound, .expireIgnored, .leasesRefreshed:
            return nil
        }
        return nil
    }

    private mutating func start(_ session: Session, _ key: ServiceKey) {
        open[key] = sessions.count
        sessions.append(session)
    }

    private func liveService(_ key: ServiceKey) -> Service? {
        projection.liveEntry(name: key.name, id: key.id)?.service
    }

    private mutating func close(_ index: Int, _ key: ServiceKey, at time: Int64, reason: SessionEnd) -> Session {
        open[key] = nil
        sessions[index].endMicroseconds = time
        sessions[index].end = reason
        return sessions[index]
    }

    /// Closed and still-open sessions in `Session.ordered` order.
    func allSessions() -> [Session] {
        sessions.sorted(by: Session.ordered)
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
            start(Session(
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
            ), key)
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
