/// A service whose lease lapsed without a deregister: what a later Renew revives.
public struct LapsedService: Sendable, Equatable {
    public var service: Service
    public var registeredAtMicroseconds: Int64
    public var lapsedAtMicroseconds: Int64

    public init(service: Service, registeredAtMicroseconds: Int64, lapsedAtMicroseconds: Int64) {
        self.service = service
        self.registeredAtMicroseconds = registeredAtMicroseconds
        self.lapsedAtMicroseconds = lapsedAtMicroseconds
    }
}

/// What folding one record did to the view (the Registry answers Renew from it).
public enum ApplyEffect: Sendable, Equatable {
    /// Register: the service is live with a fresh lease (`replaced` when it was live before).
    case registered(replaced: Bool)
    /// Renew of a live lease.
    case renewed
    /// Renew of a lapsed lease: live again from its last known network/address.
    case revived
    /// Renew of a service never seen, deregistered, or lapsed beyond the revive window.
    case notFound
    /// Deregister: `found` is false for an unknown service (idempotent).
    case deregistered(found: Bool)
    /// Expire: the lease lapsed and the service moved to the lapsed set.
    case expired
    /// Expire that no longer applies (renewed or deregistered since the sweeper saw it).
    case expireIgnored
    /// Start or stall: every live lease was refreshed; `count` leases were touched.
    case leasesRefreshed(count: Int)
}

/// The pure fold of the log: the server and the replay tool both apply events to it.
///
/// Rules (docs/ARCHITECTURE.md, "Registry semantics"), all decided by the records alone so a replay computes the same view:
/// - the lease TTL in force comes from the last `start` or `stall` record (45 s before any);
/// - register upserts (name, id) with a lease of `time + TTL`; renew extends a live lease, and
///   revives a lapsed one (swept by `expire` or not) from its last network/address;
/// - `expire` moves a lease that lapsed by the record's time to the lapsed set; an `expire`
///   for a lease renewed meanwhile is ignored (by time, and by the renew sequence it names);
/// - `start` gives every live lease a fresh TTL from its time; `stall` extends every live
///   lease to at least its time + TTL;
/// - lapsed services older than `reviveWindowMicroseconds` are forgotten.
public struct Projection: Sendable, Equatable {
    /// The lease TTL in force before any `start` record.
    public static let defaultLeaseTTLMicroseconds: Int64 = 45_000_000
    /// How long a lapsed service stays revivable (and in memory).
    public static let reviveWindowMicroseconds: Int64 = 24 * 3_600 * 1_000_000
    /// Lapsed services beyond the window are pruned at every start and every this many records.
    static let pruneEverySequences: UInt64 = 65_536

    public init() {}

    /// The sequence of the last applied record (0 before any).
    public internal(set) var lastSequence: UInt64 = 0
    /// The time of the last applied record (0 before any).
    public internal(set) var lastTimeMicroseconds: Int64 = 0
    /// The lease TTL in force.
    public internal(set) var leaseTTLMicroseconds: Int64 = Projection.defaultLeaseTTLMicroseconds
    /// name → id → lease, including leases that lapsed but were not yet expired by a record.
    var live: [String: [String: LeaseEntry]] = [:]
    /// The node, network and address strings the leases refer to.
    var strings = StringTable()
    /// The leases by expiry, for the sweeper (an index: not part of the value, see `==`).
    var leaseIndex = LeaseIndex()
    /// name → id → lapsed service, for revive.
    var lapsed: [String: [String: LapsedService]] = [:]
    /// Entries in the live map (lapsed-but-unswept leases included).
    public internal(set) var liveEntryCount = 0
    /// Entries in the lapsed set.
    public internal(set) var lapsedEntryCount = 0

    /// Folds one record into the view. Records must come in rising sequence order.
    @discardableResult
    public mutating func apply(_ event: RegistryEvent) -> ApplyEffect {
        precondition(
            event.sequence > lastSequence,
            "records must be applied in rising sequence order: \(event.sequence) after \(lastSequence)")
        lastSequence = event.sequence
        lastTimeMicroseconds = event.timeMicroseconds
        let effect: ApplyEffect
        switch event.kind {
        case .register: effect = applyRegister(event)
        case .renew: effect = applyRenew(event)
        case .deregister: effect = applyDeregister(event)
        case .expire: effect = applyExpire(event)
        case .start: effect = applyStart(event)
        case .stall: effect = applyStall(event)
        }
        if event.sequence % Projection.pruneEverySequences == 0 {
            pruneLapsed(at: event.timeMicroseconds)
        }
        return effect
    }

    /// Every service whose lease is unexpired at `timeMicroseconds`, by name then id.
    public func liveServices(at timeMicroseconds: Int64) -> [LiveService] {
        live.keys.sorted().flatMap { liveServices(named: $0, at: timeMicroseconds) }
    }

    /// The unexpired services of tunnel `name` at `timeMicroseconds`, by id.
    public func liveServices(named name: String, at timeMicroseconds: Int64) -> [LiveService] {
        guard let entries = live[name] else { return [] }
        return entries
            .filter { $0.value.leaseExpiresAtMicroseconds > timeMicroseconds }
            .sorted { $0.key < $1.key }
            .map { liveService(name: name, id: $0.key, $0.value) }
    }

    /// The lease of (name, id) in the live map, lapsed or not.
    public func liveEntry(name: String, id: String) -> LiveService? {
        live[name]?[id].map { liveService(name: name, id: id, $0) }
    }

    /// When the lease of (name, id) in the live map expires (expired or not); nil when there is none.
    public func leaseExpiry(name: String, id: String) -> Int64? {
        live[name]?[id]?.leaseExpiresAtMicroseconds
    }

    /// The lapsed (expired, not deregistered) service (name, id), if still revivable.
    public func lapsedEntry(name: String, id: String) -> LapsedService? {
        lapsed[name]?[id]
    }

    /// Every lapsed service still revivable, by name then id.
    public var lapsedServices: [LapsedService] {
        lapsed.keys.sorted().flatMap { name in
            lapsed[name, default: [:]].values.sorted { $0.service.id < $1.service.id }
        }
    }
}

extension Projection {
    private mutating func applyRegister(_ event: RegistryEvent) -> ApplyEffect {
        let key = event.service
        let replaced = removeLive(name: key.name, id: key.id) != nil
        removeLapsed(name: key.name, id: key.id)
        setLive(
            LiveService(
                service: event.service, registeredAtMicroseconds: event.timeMicroseconds,
                lastRenewAtMicroseconds: event.timeMicroseconds,
                leaseExpiresAtMicroseconds: event.timeMicroseconds + leaseTTLMicroseconds,
                lastRenewSequence: event.sequence))
        return .registered(replaced: replaced)
    }

    private mutating func applyRenew(_ event: RegistryEvent) -> ApplyEffect {
        let name = event.service.name
        let id = event.service.id
        let time = event.timeMicroseconds
        // Renews are most of the log: extend the lease in place (one lookup per level, no copy).
        let ttl = leaseTTLMicroseconds
        if let outer = live.index(forKey: name), let inner = live.values[outer].index(forKey: id) {
            let node = event.service.node
            if !node.isEmpty, strings[live.values[outer].values[inner].node] != node {
                let old = live.values[outer].values[inner].node
                live.values[outer].values[inner].node = strings.intern(node)
                strings.release(old)
            }
            let renewed = live.values[outer].values[inner].renew(
                at: time, leaseTTLMicroseconds: ttl, sequence: event.sequence)
            if renewed.needsIndex {
                var entry = live.values[outer].values[inner]
                indexLease(name: name, id: id, entry: &entry)
                live.values[outer].values[inner] = entry
            }
            return renewed.wasLapsed ? .revived : .renewed
        }
        guard let old = lapsed[name]?[id] else { return .notFound }
        removeLapsed(name: name, id: id)
        guard old.lapsedAtMicroseconds >= time - Projection.reviveWindowMicroseconds else { return .notFound }
        var service = old.service
        if !event.service.node.isEmpty { service.node = event.service.node }
        setLive(
            LiveService(
                service: service, registeredAtMicroseconds: old.registeredAtMicroseconds,
                lastRenewAtMicroseconds: time, leaseExpiresAtMicroseconds: time + leaseTTLMicroseconds,
                lastRenewSequence: event.sequence))
        return .revived
    }

    private mutating func applyDeregister(_ event: RegistryEvent) -> ApplyEffect {
        let name = event.service.name
        let id = event.service.id
        let wasLive = removeLive(name: name, id: id) != nil
        let wasLapsed = removeLapsed(name: name, id: id) != nil
        return .deregistered(found: wasLive || wasLapsed)
    }

    private mutating func applyExpire(_ event: RegistryEvent) -> ApplyEffect {
        let name = event.service.name
        let id = event.service.id
        guard let entry = liveEntry(name: name, id: id), entry.leaseExpiresAtMicroseconds <= event.timeMicroseconds
        else {
            return .expireIgnored
        }
        if let renewSequence = event.renewSequence, entry.lastRenewSequence != 0,
            entry.lastRenewSequence != renewSequence
        {
            return .expireIgnored
        }
        removeLive(name: name, id: id)
        let lapsedAt = event.lapsedAtMicroseconds ?? entry.leaseExpiresAtMicroseconds
        setLapsed(
            LapsedService(
                service: entry.service, registeredAtMicroseconds: entry.registeredAtMicroseconds,
                lapsedAtMicroseconds: lapsedAt))
        return .expired
    }

    private mutating func applyStart(_ event: RegistryEvent) -> ApplyEffect {
        if let ttl = event.leaseTTLMicroseconds, ttl > 0 { leaseTTLMicroseconds = ttl }
        let expires = event.timeMicroseconds + leaseTTLMicroseconds
        let count = refreshLeases { _ in expires }
        pruneLapsed(at: event.timeMicroseconds)
        return .leasesRefreshed(count: count)
    }

    private mutating func applyStall(_ event: RegistryEvent) -> ApplyEffect {
        if let ttl = event.leaseTTLMicroseconds, ttl > 0 { leaseTTLMicroseconds = ttl }
        let floor = event.timeMicroseconds + leaseTTLMicroseconds
        let count = refreshLeases { max($0, floor) }
        return .leasesRefreshed(count: count)
    }

    private mutating func pruneLapsed(at time: Int64) {
        let horizon = time - Projection.reviveWindowMicroseconds
        // Read first, rewrite only the names with something to forget: this runs inside the fold
        // every 65,536 records, usually with nothing to prune.
        var stale: [String] = []
        for (name, entries) in lapsed where entries.values.contains(where: { $0.lapsedAtMicroseconds < horizon }) {
            stale.append(name)
        }
        for name in stale {
            guard var entries = lapsed.removeValue(forKey: name) else { continue }
            let before = entries.count
            entries = entries.filter { $0.value.lapsedAtMicroseconds >= horizon }
            lapsedEntryCount -= before - entries.count
            if !entries.isEmpty { lapsed[name] = entries }
        }
    }

    /// Puts `entry` in the live map (replacing any lease of the same name and id) and the index.
    mutating func setLive(_ entry: LiveService) {
        let service = entry.service
        removeLive(name: service.name, id: service.id)
        var stored = LeaseEntry(
            node: strings.intern(service.node), network: strings.intern(service.network),
            address: strings.intern(service.address), registeredAtMicroseconds: entry.registeredAtMicroseconds,
            lastRenewAtMicroseconds: entry.lastRenewAtMicroseconds,
            leaseExpiresAtMicroseconds: entry.leaseExpiresAtMicroseconds, lastRenewSequence: entry.lastRenewSequence)
        indexLease(name: service.name, id: service.id, entry: &stored)
        live[service.name, default: [:]][service.id] = stored
        liveEntryCount += 1
    }

    /// The public form of a stored lease.
    func liveService(name: String, id: String, _ entry: LeaseEntry) -> LiveService {
        LiveService(
            service: Service(
                id: id, name: name, node: strings[entry.node], network: strings[entry.network],
                address: strings[entry.address]),
            registeredAtMicroseconds: entry.registeredAtMicroseconds,
            lastRenewAtMicroseconds: entry.lastRenewAtMicroseconds,
            leaseExpiresAtMicroseconds: entry.leaseExpiresAtMicroseconds, lastRenewSequence: entry.lastRenewSequence)
    }

    mutating func setLapsed(_ entry: LapsedService) {
        if lapsed[entry.service.name]?[entry.service.id] == nil { lapsedEntryCount += 1 }
        lapsed[entry.service.name, default: [:]][entry.service.id] = entry
    }

    @discardableResult
    private mutating func removeLive(name: String, id: String) -> LeaseEntry? {
        guard let outer = live.index(forKey: name),
            let removed = live.values[outer].removeValue(forKey: id)
        else { return nil }
        liveEntryCount -= 1
        if live.values[outer].isEmpty { live.remove(at: outer) }
        strings.release(removed.node)
        strings.release(removed.network)
        strings.release(removed.address)
        return removed
    }

    @discardableResult
    private mutating func removeLapsed(name: String, id: String) -> LapsedService? {
        guard let removed = lapsed[name]?.removeValue(forKey: id) else { return nil }
        lapsedEntryCount -= 1
        if lapsed[name]?.isEmpty == true { lapsed[name] = nil }
        return removed
    }
}

extension LeaseEntry {
    /// Extends the lease from `time`; returns whether the lease had lapsed by then and whether
    /// the lease index must add it (its new expiry is in an earlier bucket than the one holding it).
    fileprivate mutating func renew(at time: Int64, leaseTTLMicroseconds: Int64, sequence: UInt64)
        -> (wasLapsed: Bool, needsIndex: Bool)
    {
        let wasLapsed = leaseExpiresAtMicroseconds <= time
        lastRenewAtMicroseconds = time
        leaseExpiresAtMicroseconds = time + leaseTTLMicroseconds
        lastRenewSequence = sequence
        return (wasLapsed, LeaseIndex.bucket(leaseExpiresAtMicroseconds) < indexedBucket)
    }
}

extension Projection {
    /// Equal views: the same positions, TTL, leases and lapsed services. The string table's
    /// numbering and the lease index are how the view is stored, not what it is, and are ignored.
    public static func == (lhs: Projection, rhs: Projection) -> Bool {
        guard lhs.lastSequence == rhs.lastSequence, lhs.lastTimeMicroseconds == rhs.lastTimeMicroseconds,
            lhs.leaseTTLMicroseconds == rhs.leaseTTLMicroseconds, lhs.liveEntryCount == rhs.liveEntryCount,
            lhs.lapsedEntryCount == rhs.lapsedEntryCount, lhs.live.count == rhs.live.count, lhs.lapsed == rhs.lapsed
        else { return false }
        for (name, entries) in lhs.live {
            guard let others = rhs.live[name], others.count == entries.count else { return false }
            for (id, entry) in entries {
                guard let other = others[id],
                    lhs.liveService(name: name, id: id, entry) == rhs.liveService(name: name, id: id, other)
                else { return false }
            }
        }
        return true
    }
}
