import CoreMetrics
import Logging
import Metrics

/// The registry: validates requests, logs them durably, and answers Get from the projection.
///
/// Every mutation becomes log records first; the projection changes only by folding records
/// the log acknowledged, in sequence order (appends run concurrently and may resume out of
/// order, so early arrivals wait in `pending`). A mutation returns once its records are durable
/// and folded, with the effect the fold reported.
public actor Registry {
    let configuration: RegistryConfiguration
    let store: any RegistryEventStore
    let snapshots: any RegistrySnapshotStore
    let logger: Logger
    var projection: Projection
    var random: RegistryRandom

    /// Records acknowledged by the log but not yet folded, by sequence.
    var pending: [UInt64: RegistryEvent] = [:]
    /// Last sequences of commits whose callers want the fold's effect.
    var expecting: Set<UInt64> = []
    var readyEffects: [UInt64: ApplyEffect] = [:]
    var waiters: [UInt64: CheckedContinuation<ApplyEffect, any Error>] = [:]
    /// When each waiter began to wait (clock microseconds), for `failLateWaiters`.
    var waitingSince: [UInt64: Int64] = [:]
    /// Effects of records the shared log's tail folded while this instance's appends were in
    /// flight, for an append that returns after its own records were folded.
    var tailEffects: [UInt64: ApplyEffect] = [:]
    static let tailEffectsMax = 65_536
    /// Whether this instance led the sweeper at its last round (a shared log has one leader).
    var leading: Bool
    var appendsInFlight = 0
    var health: Health = .available

    var lastSweepAtMicroseconds: Int64
    var lastSnapshotSequence: UInt64
    var lastSnapshotAtMicroseconds: Int64
    var snapshotRunning = false
    /// `tunnel_registry_log_records_total{kind}`: records folded while serving (expire, start and
    /// stall included; the replay at open is not counted).
    let eventCounters: [EventKind: Counter]
    /// `tunnel_registry_snapshots_total{result}`: snapshots written and failed.
    let snapshotsWritten = Counter(label: "tunnel_registry_snapshots_total", dimensions: [("result", "written")])
    let snapshotsFailed = Counter(label: "tunnel_registry_snapshots_total", dimensions: [("result", "failed")])

    /// Whether the log takes appends.
    enum Health: Equatable {
        case available
        /// An append failed with `reason`; recovery is tried every `recoveryIntervalMicroseconds`.
        case unavailable(reason: String, lastAttemptMicroseconds: Int64)
        case recovering(reason: String)
        case closed
    }

    /// Opens a registry on `store`: folds the newest usable snapshot and the log after it, then,
    /// for a store of its own, appends a `start` record that grants every restored lease a fresh
    /// TTL. On a shared store the sweeper leader appends that record when it takes over.
    public static func open(
        _ configuration: RegistryConfiguration,
        store: any RegistryEventStore,
        snapshots: any RegistrySnapshotStore,
        logger: Logger
    ) async throws -> Registry {
        try configuration.validate()
        let durable = try await store.durableSequence()
        var projection = await snapshots.loadNewest(atOrBefore: durable, logger: logger) ?? Projection()
        let snapshotSequence = projection.lastSequence
        let started = configuration.clock()
        try await fold(store: store, into: &projection, logger: logger)
        logger.info(
            "registry replayed the log",
            metadata: [
                "snapshot.sequence": "\(snapshotSequence)", "log.sequence": "\(projection.lastSequence)",
                "replay.records": "\(projection.lastSequence - snapshotSequence)",
                "replay.milliseconds": "\((configuration.clock() - started) / 1_000)",
                "services.live": "\(projection.liveEntryCount)",
            ])
        // Moved, not copied: a copy left here made the `start` below copy every name's leases
        // (copy-on-write) and free the old view afterwards.
        let registry = Registry(
            configuration: configuration, store: store, snapshots: snapshots, logger: logger,
            projection: consume projection, snapshotSequence: snapshotSequence)
        if !store.isShared { try await registry.appendStart() }
        return registry
    }

    /// Folds every record of `store` after `projection.lastSequence` into it, in place; returns
    /// each folded event with its effect through `applied`. When reading fails part-way the
    /// projection holds what was folded so far (callers that must keep the old view fold a copy).
    static func fold(
        store: any RegistryEventStore, into projection: inout Projection, logger: Logger,
        applied: ((RegistryEvent, ApplyEffect) -> Void)? = nil
    ) async throws {
        guard let applied else {
            try await foldPayloads(store: store, into: &projection, logger: logger)
            return
        }
        // In place: folding into a copy made the first write of every name's leases copy them
        // (copy-on-write), then freed the old view: a fifth of a restart's CPU at 100,000 leases.
        try await store.read(fromSequence: projection.lastSequence + 1) { record in
            guard record.sequence > projection.lastSequence else { return }
            if record.sequence != projection.lastSequence + 1 {
                logSkip(expected: projection.lastSequence + 1, found: record.sequence, logger: logger)
            }
            let event = try EventCodec.decode(record)
            applied(event, projection.apply(event))
        }
    }

    /// `fold` when no one wants the events: each payload is read in place and folded through a
    /// `LookaheadFold`, building no strings. Records read before a failure of the read are folded
    /// before it is rethrown; a record that does not decode stops the fold there.
    private static func foldPayloads(
        store: any RegistryEventStore, into projection: inout Projection, logger: Logger
    ) async throws {
        var lookahead = LookaheadFold()
        var lastTaken = projection.lastSequence
        var foldFailed = false
        do {
            try await store.readPayloads(fromSequence: lastTaken + 1) { sequence, time, payload in
                guard sequence > lastTaken else { return }
                if sequence != lastTaken + 1 { logSkip(expected: lastTaken + 1, found: sequence, logger: logger) }
                lastTaken = sequence
                do {
                    try lookahead.take(sequence: sequence, time: time, payload: payload, into: &projection)
                } catch {
                    foldFailed = true
                    throw error
                }
            }
        } catch {
            if !foldFailed { try lookahead.flush(into: &projection) }
            throw error
        }
        try lookahead.flush(into: &projection)
    }

    private static func logSkip(expected: UInt64, found: UInt64, logger: Logger) {
        logger.error("the log skips sequences", metadata: ["log.expected": "\(expected)", "log.found": "\(found)"])
    }

    private init(
        configuration: RegistryConfiguration, store: any RegistryEventStore, snapshots: any RegistrySnapshotStore,
        logger: Logger, projection: Projection, snapshotSequence: UInt64
    ) {
        self.configuration = configuration
        self.store = store
        self.snapshots = snapshots
        self.logger = logger
        self.projection = projection
        self.random = RegistryRandom(seed: configuration.randomSeed)
        let now = configuration.clock()
        self.lastSweepAtMicroseconds = now
        self.lastSnapshotSequence = snapshotSequence
        self.lastSnapshotAtMicroseconds = now
        self.leading = !store.isShared
        var counters: [EventKind: Counter] = [:]
        for kind in EventKind.allCases {
            counters[kind] = Counter(label: "tunnel_registry_log_records_total", dimensions: [("kind", kind.rawValue)])
        }
        self.eventCounters = counters
    }

    /// Appends a `start` record: every live lease gets a fresh TTL from its commit time.
    func appendStart() async throws {
        _ = try await commit(
            [controlEvent(.start, leaseTTLMicroseconds: configuration.leaseTTLMicroseconds)], asLeader: true)
    }

    /// Registers (upserts) a service and starts its lease. Throws `RegistryError`.
    public func register(_ service: Service, peer: Peer) async throws {
        let filled = try RequestValidator.validateRegister(service, peer: peer)
        if projection.liveEntryCount >= configuration.servicesMax,
            projection.liveEntry(name: filled.name, id: filled.id) == nil
        {
            throw RegistryError.unavailable(
                "the registry holds \(projection.liveEntryCount) services, its limit (servicesMax); "
                    + "retry later or raise the limit")
        }
        _ = try await commit([serviceEvent(.register, filled, peer: peer)])
    }

    /// Renews the lease of (name, id); `node` is recorded. A lease that lapsed but was not yet
    /// swept gets its `expire` logged first, then the renew revives it. Throws `RegistryError`.
    public func renew(id: String, name: String, node: String, peer: Peer) async throws -> RenewOutcome {
        try RequestValidator.validateKey(id: id, name: name, node: node)
        var events: [RegistryEvent] = []
        let key = Service(id: id, name: name, node: node, network: "", address: "")
        let renew = serviceEvent(.renew, key, peer: peer)
        // On a shared log only the sweeper leader may log an expire (one writer of expiry per
        // cluster); elsewhere the renew revives the lapsed lease without one.
        if !store.isShared, let expiry = projection.leaseExpiry(name: name, id: id),
            expiry <= configuration.clock(), let entry = projection.liveEntry(name: name, id: id)
        {
            events.append(expireEvent(entry))
        }
        events.append(renew)
        switch try await commit(events) {
        case .renewed: return .renewed
        case .revived: return .revived
        default: return .notFound
        }
    }

    /// Removes (name, id); unknown services are fine (logged all the same). Throws `RegistryError`.
    public func deregister(id: String, name: String, node: String, peer: Peer) async throws {
        try RequestValidator.validateKey(id: id, name: name, node: node)
        let key = Service(id: id, name: name, node: node, network: "", address: "")
        _ = try await commit([serviceEvent(.deregister, key, peer: peer)])
    }

    /// The live services of `name`, in the configured order. Throws on an empty name.
    public func get(name: String) throws -> [Service] {
        try RequestValidator.validateName(name)
        let now = configuration.clock()
        let live = projection.liveServices(named: name, at: now)
        let ordered: [LiveService]
        switch configuration.getOrder {
        case .shuffle:
            ordered = live.shuffled(using: &random)
        case .freshest:
            let horizon = now - configuration.freshWindowMicroseconds
            let fresh = live.filter { $0.lastRenewAtMicroseconds >= horizon }
            let older = live.filter { $0.lastRenewAtMicroseconds < horizon }
            ordered = fresh.shuffled(using: &random) + older.shuffled(using: &random)
        }
        return ordered.prefix(configuration.getResultsMax).map(\.service)
    }

    /// Live services in total (for metrics); leases that lapsed within the last sweep
    /// interval may still be counted.
    public var liveServiceCount: Int { projection.liveEntryCount }

    /// The log writer's totals since open (`RegistryEventStore.writeStatistics`), for metrics;
    /// nil on a store that does not count them.
    public nonisolated var logWriteStatistics: StoreWriteStatistics? { store.writeStatistics }

    /// The view as folded so far (for diagnostics and tests).
    public var currentProjection: Projection { projection }

    /// False while the log cannot be written (mutations answer `unavailable`).
    public var isWritable: Bool { health == .available }

    func serviceEvent(_ kind: EventKind, _ service: Service, peer: Peer) -> RegistryEvent {
        RegistryEvent(
            sequence: 0, timeMicroseconds: 0, kind: kind, service: service,
            peer: RequestValidator.peerString(peer), instance: configuration.instance)
    }

    func expireEvent(_ entry: LiveService) -> RegistryEvent {
        RegistryEvent(
            sequence: 0, timeMicroseconds: 0, kind: .expire, service: entry.service, peer: "",
            lapsedAtMicroseconds: entry.leaseExpiresAtMicroseconds,
            renewSequence: entry.lastRenewSequence == 0 ? nil : entry.lastRenewSequence,
            instance: configuration.instance)
    }

    func controlEvent(_ kind: EventKind, leaseTTLMicroseconds: Int64) -> RegistryEvent {
        RegistryEvent(
            sequence: 0, timeMicroseconds: 0, kind: kind,
            service: Service(id: "", name: "", node: "", network: "", address: ""), peer: "",
            leaseTTLMicroseconds: leaseTTLMicroseconds, instance: configuration.instance)
    }
}
