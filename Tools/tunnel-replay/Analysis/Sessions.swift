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

/// Splits the event stream into connector sessions by folding it through the Registry's own
/// `Projection` and reading what each record did (`ApplyEffect`): a session starts at a
/// Register or a revive and ends at a Deregister, at the instant its lease lapsed, or is live.
/// The tool never decides expiry or revival itself.
struct SessionTracker {
    private(set) var projection = Projection()
    /// The services with an open session, found from a record's name and id bytes (no string is
    /// built per record: a dictionary keyed by the two strings was a quarter of `sessions`).
    private var open = ServiceKeySet()
    /// The open session of the service at each entry index of `open`, with its running counts
    /// (its row in `sessions` is written at the close); stale at indices not in use.
    private var states: [OpenSession] = []
    /// Every session started; an open one's counts are in `states` until it closes.
    private var sessions: [Session] = []
    /// The shortest lease TTL the fold has had in force (see `apply`).
    private var shortestLeaseTTLMicroseconds = Projection.defaultLeaseTTLMicroseconds

    /// What changes while a session is open: its row in `sessions` and its counts.
    private struct OpenSession {
        var index: Int
        var lastActivityMicroseconds: Int64
        var renews: Int
        var maxGapMicroseconds: Int64

        mutating func recordActivity(at time: Int64) {
            maxGapMicroseconds = max(maxGapMicroseconds, time - lastActivityMicroseconds)
            lastActivityMicroseconds = time
        }
    }

    /// What the tracker reads of a record besides what the fold does.
    private struct Step {
        var kind: EventKind
        var sequence: UInt64
        var time: Int64
        var lapsedAtMicroseconds: Int64?
    }

    /// Folds one event; returns the sessions it closed (a revive of an unswept lease closes one).
    @discardableResult
    mutating func apply(_ event: RegistryEvent) -> Session? {
        let step = Step(
            kind: event.kind, sequence: event.sequence, time: event.timeMicroseconds,
            lapsedAtMicroseconds: event.lapsedAtMicroseconds)
        var name = event.service.name
        var id = event.service.id
        return name.withUTF8 { name in
            id.withUTF8 { id in
                apply(
                    step, name: UnsafeRawBufferPointer(name), id: UnsafeRawBufferPointer(id),
                    service: { event.service }
                ) { $0.apply(event) }
            }
        }
    }

    /// Folds the record at `sequence` from its payload parsed in place (what `apply(_:)` does with
    /// the decoded event): strings are built only when a session starts (and for the lookups of a
    /// late renew or an expiry).
    @discardableResult
    mutating func apply(_ view: EventPayloadView, sequence: UInt64, time: Int64) -> Session? {
        let step = Step(
            kind: view.kind, sequence: sequence, time: time, lapsedAtMicroseconds: view.lapsedAtMicroseconds)
        let service = {
            Service(
                id: Self.string(view.id), name: Self.string(view.name), node: Self.string(view.node),
                network: Self.string(view.network), address: Self.string(view.address))
        }
        return apply(step, name: view.name, id: view.id, service: service) {
            $0.apply(view, sequence: sequence, time: time)
        }
    }

    private static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        bytes.isEmpty ? "" : String(decoding: bytes, as: UTF8.self)
    }

    @inline(__always)
    private mutating func apply(
        _ step: Step, name: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer, service: () -> Service,
        fold: (inout Projection) -> ApplyEffect
    ) -> Session? {
        // Valid until `open` changes: the fold below does not touch it.
        let slot = step.kind.isServiceEvent ? open.find(name: name, id: id) : nil
        // A renew can revive a lease that lapsed unswept; the lapse instant is the lease's expiry
        // before the fold. No lease lapses sooner than the shortest TTL after its last renew, so
        // the lookup is skipped for the common, timely renew.
        var leaseBefore: LiveService?
        if step.kind == .renew, let slot,
            step.time - states[slot].lastActivityMicroseconds >= shortestLeaseTTLMicroseconds
        {
            leaseBefore = projection.liveEntry(name: Self.string(name), id: Self.string(id))
        }
        let effect = fold(&projection)
        shortestLeaseTTLMicroseconds = min(shortestLeaseTTLMicroseconds, projection.leaseTTLMicroseconds)
        switch effect {
        case .registered:
            if let slot {
                states[slot].recordActivity(at: step.time)
                let index = states[slot].index
                let registered = service()
                sessions[index].node = registered.node
                sessions[index].network = registered.network
                sessions[index].address = registered.address
            } else {
                start(Session(startingAt: step.time, sequence: step.sequence, from: service()))
            }
        case .renewed:
            guard let slot else {
                let live = liveService(name: name, id: id)
                start(Session(startingAt: step.time, sequence: step.sequence, from: live ?? service()))
                return nil
            }
            states[slot].recordActivity(at: step.time)
            states[slot].renews += 1
        case .revived:
            var ended: Session?
            if let slot {
                let lapse = leaseBefore?.leaseExpiresAtMicroseconds ?? step.time
                ended = close(slot, at: lapse, reason: .expire)
            }
            let live = liveService(name: name, id: id)
            start(Session(startingAt: step.time, sequence: step.sequence, from: live ?? service()))
            return ended
        case .deregistered:
            guard let slot else { return nil }
            states[slot].recordActivity(at: step.time)
            return close(slot, at: step.time, reason: .deregister)
        case .expired:
            guard let slot else { return nil }
            let lapse = projection.lapsedEntry(name: Self.string(name), id: Self.string(id))?.lapsedAtMicroseconds
            return close(slot, at: lapse ?? step.lapsedAtMicroseconds ?? step.time, reason: .expire)
        case .notFound, .expireIgnored, .leasesRefreshed:
            return nil
        }
        return nil
    }

    /// Opens `session` under its service's name and id.
    private mutating func start(_ session: Session) {
        let state = OpenSession(
            index: sessions.count, lastActivityMicroseconds: session.lastActivityMicroseconds,
            renews: session.renews, maxGapMicroseconds: session.maxGapMicroseconds)
        let slot = open.insert(name: session.name, id: session.id)
        if slot == states.count {
            states.append(state)
        } else {
            states[slot] = state
        }
        sessions.append(session)
    }

    private func liveService(name: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer) -> Service? {
        projection.liveEntry(name: Self.string(name), id: Self.string(id))?.service
    }

    private mutating func close(_ slot: Int, at time: Int64, reason: SessionEnd) -> Session {
        let state = states[slot]
        open.remove(index: slot)
        Self.store(state, in: &sessions)
        sessions[state.index].endMicroseconds = time
        sessions[state.index].end = reason
        return sessions[state.index]
    }

    /// Writes an open session's counts into its row.
    private static func store(_ state: OpenSession, in sessions: inout [Session]) {
        sessions[state.index].lastActivityMicroseconds = state.lastActivityMicroseconds
        sessions[state.index].renews = state.renews
        sessions[state.index].maxGapMicroseconds = state.maxGapMicroseconds
    }

    /// Closed and still-open sessions in `Session.ordered` order.
    func allSessions() -> [Session] {
        var all = sessions
        for slot in open.indices { Self.store(states[slot], in: &all) }
        return all.sorted(by: Session.ordered)
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
            ))
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
    init(startingAt time: Int64, sequence: UInt64, from service: Service) {
        self.init(
            id: service.id,
            name: service.name,
            node: service.node,
            network: service.network,
            address: service.address,
            startMicroseconds: time,
            endMicroseconds: nil,
            end: .live,
            renews: 0,
            maxGapMicroseconds: 0,
            startSequence: sequence,
            lastActivityMicroseconds: time
        )
    }

    var service: Service {
        Service(id: id, name: name, node: node, network: network, address: address)
    }
}
