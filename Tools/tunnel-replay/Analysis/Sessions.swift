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

    /// The indices of `sessions` in `ordered` order (the sort moves integers, not sessions, and
    /// compares names and ids only between sessions that start together).
    static func orderedIndices(of sessions: [Session]) -> [Int] {
        var keys = sessions.indices.map { (sessions[$0].startMicroseconds, sessions[$0].startSequence, $0) }
        keys.sort { left, right in
            if left.0 != right.0 { return left.0 < right.0 }
            if left.1 != right.1 { return left.1 < right.1 }
            return ordered(sessions[left.2], sessions[right.2])
        }
        return keys.map(\.2)
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
    /// The open session of the lease at each entry index of the projection's live map, with its
    /// running counts (its row in `sessions` is written at the close); `index` -1 where none is.
    /// The fold reports where it found and left each record's lease (`Projection.LeaseMove`), so
    /// a record costs the fold's one lookup (a second table keyed by name and id was as costly
    /// as the fold's own).
    private var states: [OpenSession] = []
    /// Every session started; an open one's counts are in `states` until it closes.
    private var sessions: [Session] = []
    /// Sessions `init(continuing:)` opened are `sessions[..<continuedCount]`.
    private(set) var continuedCount = 0
    /// For each continued session, whether a Register replaced its node, network and address.
    private(set) var continuedReregistered: [Bool] = []

    /// What changes while a session is open: its row in `sessions` and its counts.
    private struct OpenSession {
        var index: Int
        var lastActivityMicroseconds: Int64
        var renews: Int
        var maxGapMicroseconds: Int64

        static let none = OpenSession(index: -1, lastActivityMicroseconds: 0, renews: 0, maxGapMicroseconds: 0)

        mutating func recordActivity(at time: Int64) {
            maxGapMicroseconds = max(maxGapMicroseconds, time - lastActivityMicroseconds)
            lastActivityMicroseconds = time
        }
    }

    /// What the tracker reads of a record besides what the fold does.
    private struct Step {
        var sequence: UInt64
        var time: Int64
        var lapsedAtMicroseconds: Int64?
    }

    /// Folds one event; returns the sessions it closed (a revive of an unswept lease closes one).
    @discardableResult
    mutating func apply(_ event: RegistryEvent) -> Session? {
        let step = Step(
            sequence: event.sequence, time: event.timeMicroseconds, lapsedAtMicroseconds: event.lapsedAtMicroseconds)
        var move = Projection.LeaseMove()
        let effect = projection.apply(event, move: &move)
        return track(effect, move, step, service: event).map { sessions[$0] }
    }

    /// Folds the record at `sequence` from its payload parsed in place (what `apply(_:)` does with
    /// the decoded event): strings are built only when a session starts. `leaseHash`, when given,
    /// is `Projection.leaseHash(payload:)` of the record (the lookahead computed it).
    @discardableResult
    mutating func apply(
        _ view: EventPayloadView, sequence: UInt64, time: Int64, leaseHash: UInt32? = nil
    ) -> Session? {
        fold(view, sequence: sequence, time: time, leaseHash: leaseHash).map { sessions[$0] }
    }

    /// `apply(_:sequence:time:leaseHash:)` returning the index in `sessions` of the session it
    /// closed rather than a copy (a fold that ignores it destroyed an optional session per record).
    @inline(__always)
    @discardableResult
    mutating func fold(
        _ view: EventPayloadView, sequence: UInt64, time: Int64, leaseHash: UInt32? = nil
    ) -> Int? {
        let step = Step(sequence: sequence, time: time, lapsedAtMicroseconds: view.lapsedAtMicroseconds)
        var move = Projection.LeaseMove()
        let effect = projection.apply(view, sequence: sequence, time: time, move: &move, leaseHash: leaseHash)
        return track(effect, move, step, service: view)
    }

    /// What the fold of a record did (`effect`, and where it found and left the lease) to the
    /// sessions; returns the index of the session it closed, if any.
    @inline(__always)
    private mutating func track<Source: ServiceSource>(
        _ effect: ApplyEffect, _ move: Projection.LeaseMove, _ step: Step, service source: borrowing Source
    ) -> Int? {
        // The open session of the lease the fold found, taken from its slot: every lease the fold
        // removes from the live map or moves is reported, so the slot holds no stale session.
        var state: OpenSession?
        if move.before >= 0, move.before < states.count, states[move.before].index >= 0 {
            state = states[move.before]
            if move.after != move.before { states[move.before] = .none }
        }
        switch effect {
        case .registered:
            if var state {
                state.recordActivity(at: step.time)
                let registered = source.service()
                sessions[state.index].node = registered.node
                sessions[state.index].network = registered.network
                sessions[state.index].address = registered.address
                if state.index < continuedCount { continuedReregistered[state.index] = true }
                put(state, at: move.after)
            } else {
                start(Session(startingAt: step.time, sequence: step.sequence, from: source.service()), at: move.after)
            }
        case .renewed:
            guard var state else {
                let live = projection.liveService(move.after).service
                start(Session(startingAt: step.time, sequence: step.sequence, from: live), at: move.after)
                return nil
            }
            state.recordActivity(at: step.time)
            state.renews += 1
            states[move.after] = state
        case .revived:
            // A lease revived in place lapsed unswept: its session ended when the lease expired.
            let ended = state.map { close($0, at: move.expiryBefore, reason: .expire) }
            let live = projection.liveService(move.after).service
            start(Session(startingAt: step.time, sequence: step.sequence, from: live), at: move.after)
            return ended
        case .deregistered:
            guard var state else { return nil }
            state.recordActivity(at: step.time)
            return close(state, at: step.time, reason: .deregister)
        case .expired:
            // The lapse instant the fold stored for the lapsed service.
            guard let state else { return nil }
            return close(state, at: step.lapsedAtMicroseconds ?? move.expiryBefore, reason: .expire)
        case .notFound, .expireIgnored, .leasesRefreshed:
            return nil
        }
        return nil
    }

    /// Opens `session` for the lease at entry `liveIndex` of the live map.
    private mutating func start(_ session: Session, at liveIndex: Int) {
        let state = OpenSession(
            index: sessions.count, lastActivityMicroseconds: session.lastActivityMicroseconds,
            renews: session.renews, maxGapMicroseconds: session.maxGapMicroseconds)
        sessions.append(session)
        put(state, at: liveIndex)
    }

    private mutating func put(_ state: OpenSession, at liveIndex: Int) {
        if liveIndex >= states.count {
            states.append(contentsOf: repeatElement(.none, count: liveIndex + 1 - states.count))
        }
        states[liveIndex] = state
    }

    /// Closes the session `state` holds; returns its index in `sessions`.
    private mutating func close(_ state: OpenSession, at time: Int64, reason: SessionEnd) -> Int {
        Self.store(state, in: &sessions)
        sessions[state.index].endMicroseconds = time
        sessions[state.index].end = reason
        return state.index
    }

    /// Writes an open session's counts into its row.
    private static func store(_ state: OpenSession, in sessions: inout [Session]) {
        sessions[state.index].lastActivityMicroseconds = state.lastActivityMicroseconds
        sessions[state.index].renews = state.renews
        sessions[state.index].maxGapMicroseconds = state.maxGapMicroseconds
    }

    /// Closed and still-open sessions in `Session.ordered` order.
    func allSessions() -> [Session] {
        let all = storedSessions()
        return Session.orderedIndices(of: all).map { all[$0] }
    }

    /// Every session, open ones with their counts so far, in the order started.
    private func storedSessions() -> [Session] {
        var all = sessions
        for state in states where state.index >= 0 { Self.store(state, in: &all) }
        return all
    }

    /// Closed and still-open sessions with what `SessionQuery.stitch` needs, sorted here (on the
    /// piece's thread) so that the stitch only merges.
    func pieceResult() -> SessionPieceResult {
        let all = storedSessions()
        let open = states.compactMap { $0.index >= 0 ? $0.index : nil }
        return SessionPieceResult(
            sessions: all, continuedCount: continuedCount, continuedReregistered: continuedReregistered,
            ordered: Session.orderedIndices(of: all), continuedByKey: SessionKey.sorted(0..<continuedCount, of: all),
            openByKey: SessionKey.sorted(open, of: all))
    }

    init() {}

    /// A tracker that continues from `projection` (the registry as it stood at `instant`): every
    /// lease in it (of tunnel `name` only, when given; of the partition's tunnels only, when
    /// given) is an open session that started at its registration, with renews and longest gap
    /// counted from `instant` on.
    init(continuing projection: Projection, at instant: Int64, name: String?, partition: SessionPartition? = nil) {
        self.projection = projection
        continueLiveLeases(name: name, partition: partition)
    }

    /// A tracker that tracks nothing yet: `foldOnly` moves its projection, and
    /// `continueLiveLeases` starts tracking (what `init(continuing:)` does, without a second
    /// reference to the projection, which would make its first change copy it whole).
    init(projection: Projection) {
        self.projection = projection
    }

    /// Starts the loads `ring` has due on the projection (`LookaheadRing.prefetch`), and the open
    /// session of the record whose id bytes it loads (its slot is loaded by then): reading the
    /// session after the fold was a cache miss of its own.
    mutating func prefetch(_ ring: borrowing LookaheadRing) {
        let index = ring.prefetch(into: &projection)
        guard index >= 0, index < states.count else { return }
        states.withUnsafeBufferPointer { states in
            if let base = states.baseAddress { Projection.prefetch(base + index) }
        }
    }

    /// Folds a record into the projection only (before tracking starts); `leaseHash` as in `apply`.
    mutating func foldOnly(_ view: EventPayloadView, sequence: UInt64, time: Int64, leaseHash: UInt32? = nil) {
        projection.apply(view, sequence: sequence, time: time, leaseHash: leaseHash)
    }

    /// Opens a session for every lease live in the projection (see `init(continuing:)`).
    mutating func continueLiveLeases(name: String?, partition: SessionPartition?) {
        let leases = name.map { projection.liveServices(named: $0, at: .min) } ?? projection.liveServices(at: .min)
        for lease in leases where partition?.owns(name: lease.service.name) ?? true {
            guard let liveIndex = projection.liveIndex(name: lease.service.name, id: lease.service.id) else { continue }
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
            ), at: liveIndex)
        }
        continuedCount = sessions.count
        continuedReregistered = Array(repeating: false, count: continuedCount)
    }

    /// Sessions of a whole event array (pure: what the tests call).
    static func sessions(of events: [RegistryEvent]) -> [Session] {
        var tracker = SessionTracker()
        for event in events { tracker.apply(event) }
        return tracker.allSessions()
    }
}

/// The service a record names, built only when a session needs it (the fold passes the record
/// itself: a closure or wrapper capturing the parsed record copied it per record).
private protocol ServiceSource {
    func service() -> Service
}

extension RegistryEvent: ServiceSource {
    fileprivate func service() -> Service { service }
}

extension EventPayloadView: ServiceSource {
    fileprivate func service() -> Service {
        Service(
            id: Self.string(id), name: Self.string(name), node: Self.string(node),
            network: Self.string(network), address: Self.string(address))
    }

    private static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        bytes.isEmpty ? "" : String(decoding: bytes, as: UTF8.self)
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
