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
    /// Deregister, of a known service or not (idempotent: an unknown one is no error).
    case deregistered
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
    /// (name, id) → lease, including leases that lapsed but were not yet expired by a record.
    var live = ServiceTable<LeaseEntry>()
    /// name (keyed (name, "")) → the entry index in `live` of the first of its leases; the others
    /// are linked from it (`LeaseEntry.nextInName`).
    var names = ServiceTable<Int32>()
    /// The node, network and address strings the leases refer to.
    var strings = StringTable()
    /// The leases by expiry, for the sweeper (an index: not part of the value, see `==`).
    var leaseIndex = LeaseIndex()
    /// True when `leaseIndex` does not hold the live leases and is rebuilt before the sweeper reads
    /// it: a snapshot load leaves it so, because the `start` record that follows rebuilds it anyway.
    var leaseIndexStale = false
    /// (name, id) → lapsed service, for revive. Changed only through `setLapsed` and
    /// `removeLapsed`, which keep `lapsedChanges` and `lapsedAtLowerBound` (and by a snapshot load,
    /// which keeps the bound and starts with no change log, and by moving deferred services in,
    /// which changes no service).
    var lapsed = ServiceTable<LapsedService>()
    /// Lapsed services a snapshot load left undecoded (`Projection(snapshotBytes:deferringLapsed:)`):
    /// not in `lapsed` until a lookup of their key moves them there (`undeferLapsed(hash:)`), or
    /// anything that reads every lapsed service moves them all (`undeferAllLapsed()`). No key is in both.
    var deferredLapsed = DeferredLapsedEntries()
    /// No lapsed service lapsed before this: a prune whose horizon is not later has nothing to do.
    var lapsedAtLowerBound = Int64.max
    /// The keys of lapsed services added, replaced or removed since a `SnapshotComparer` last
    /// compared the projection, which re-encodes only those; nil (nothing kept) until one does.
    /// Not part of the value (see `==`).
    var lapsedChanges: LapsedChangeLog?
    /// Entries in the live map (lapsed-but-unswept leases included).
    public var liveEntryCount: Int { live.count }
    /// Entries in the lapsed set.
    public var lapsedEntryCount: Int { lapsed.count + deferredLapsed.count }

    /// Folds one record into the view. Records must come in rising sequence order.
    @discardableResult
    public mutating func apply(_ event: RegistryEvent) -> ApplyEffect {
        var move = LeaseMove()
        return apply(event, move: &move)
    }

    /// `apply(_:)` that also reports what it did to the event's lease in `move`.
    @discardableResult
    package mutating func apply(_ event: RegistryEvent, move: inout LeaseMove) -> ApplyEffect {
        var id = event.service.id
        var name = event.service.name
        var node = event.service.node
        var network = event.service.network
        var address = event.service.address
        return id.withUTF8 { id in
            name.withUTF8 { name in
                node.withUTF8 { node in
                    network.withUTF8 { network in
                        address.withUTF8 { address in
                            apply(
                                EventPayloadView(
                                    kind: event.kind,
                                    id: UnsafeRawBufferPointer(id),
                                    name: UnsafeRawBufferPointer(name),
                                    node: UnsafeRawBufferPointer(node),
                                    network: UnsafeRawBufferPointer(network),
                                    address: UnsafeRawBufferPointer(address),
                                    peer: UnsafeRawBufferPointer(start: nil, count: 0),
                                    lapsedAtMicroseconds: event.lapsedAtMicroseconds,
                                    leaseTTLMicroseconds: event.leaseTTLMicroseconds,
                                    renewSequence: event.renewSequence,
                                    instance: UnsafeRawBufferPointer(start: nil, count: 0)
                                ),
                                sequence: event.sequence,
                                time: event.timeMicroseconds,
                                move: &move
                            )
                        }
                    }
                }
            }
        }
    }

    /// Folds the record at `sequence`, committed at `time`, from its payload parsed in place
    /// (`EventCodec.view`): the same fold as `apply(_:)` on the decoded event, without building its
    /// strings. Records must come in rising sequence order.
    /// `leaseHash`, when given, is `Projection.leaseHash(payload:)` of the record's payload (a
    /// fold that prefetched by it passes it on rather than hash the record's key twice).
    @discardableResult
    public mutating func apply(
        _ record: EventPayloadView,
        sequence: UInt64,
        time: Int64,
        leaseHash: UInt32? = nil
    ) -> ApplyEffect {
        var move = LeaseMove()
        return apply(record, sequence: sequence, time: time, move: &move, leaseHash: leaseHash)
    }

    /// Where a fold found the record's lease in the live map and where it left it (entry indices,
    /// -1 for none), and the lease's expiry before the fold: what the replay tool keys its
    /// per-lease state by, so a record costs one lookup. An index is stable while its lease stays
    /// live; the fold reports every lease it removes (`before` without `after`).
    package struct LeaseMove: Sendable {
        package var before = -1
        package var after = -1
        /// The expiry of the lease at `before` when the fold found it (0 when it found none).
        package var expiryBefore: Int64 = 0

        package init() {}
    }

    /// `apply(_:sequence:time:leaseHash:)` that also reports what it did to the record's lease in `move`.
    @discardableResult
    package mutating func apply(
        _ record: EventPayloadView,
        sequence: UInt64,
        time: Int64,
        move: inout LeaseMove,
        leaseHash: UInt32? = nil
    ) -> ApplyEffect {
        precondition(
            sequence > lastSequence,
            "records must be applied in rising sequence order: \(sequence) after \(lastSequence)"
        )
        lastSequence = sequence
        lastTimeMicroseconds = time
        assert(
            leaseHash == nil || leaseHash == serviceHash(record.name, record.id),
            "the lease hash passed for record \(sequence) is not its key's")
        let effect: ApplyEffect
        switch record.kind {
        case .register:
            effect = applyRegister(
                record, sequence: sequence, time: time, hash: leaseHash ?? serviceHash(record.name, record.id), &move)
        case .renew:
            effect = applyRenew(
                record, sequence: sequence, time: time, hash: leaseHash ?? serviceHash(record.name, record.id), &move)
        case .deregister:
            effect = applyDeregister(record, hash: leaseHash ?? serviceHash(record.name, record.id), &move)
        case .expire:
            effect = applyExpire(record, time: time, hash: leaseHash ?? serviceHash(record.name, record.id), &move)
        case .start: effect = applyStart(record, time: time)
        case .stall: effect = applyStall(record, time: time)
        }
        if sequence % Projection.pruneEverySequences == 0 {
            pruneLapsed(at: time)
        }
        return effect
    }

    /// Every service whose lease is unexpired at `timeMicroseconds`, by name then id.
    public func liveServices(at timeMicroseconds: Int64) -> [LiveService] {
        live.sortedIndices.compactMap { index in
            live[index].leaseExpiresAtMicroseconds > timeMicroseconds ? liveService(index) : nil
        }
    }

    /// The unexpired services of tunnel `name` at `timeMicroseconds`, by id.
    public func liveServices(named name: String, at timeMicroseconds: Int64) -> [LiveService] {
        guard let head = names.find(name: name, id: "") else { return [] }
        var found: [Int] = []
        var index = Int(names[head])
        while index >= 0 {
            if live[index].leaseExpiresAtMicroseconds > timeMicroseconds { found.append(index) }
            index = Int(live[index].nextInName)
        }
        return found.sorted { live.id(at: $0) < live.id(at: $1) }.map(liveService)
    }

    /// The entry index of the lease of (name, id) in the live map (`LeaseMove`), lapsed or not.
    package func liveIndex(name: String, id: String) -> Int? {
        live.find(name: name, id: id)
    }

    /// The lease of (name, id) in the live map, lapsed or not.
    public func liveEntry(name: String, id: String) -> LiveService? {
        live.find(name: name, id: id).map(liveService)
    }

    /// When the lease of (name, id) in the live map expires (expired or not); nil when there is none.
    public func leaseExpiry(name: String, id: String) -> Int64? {
        live.find(name: name, id: id).map { live[$0].leaseExpiresAtMicroseconds }
    }

    /// The lapsed (expired, not deregistered) service (name, id), if still revivable.
    public func lapsedEntry(name: String, id: String) -> LapsedService? {
        if let index = lapsed.find(name: name, id: id) { return lapsed[index] }
        guard deferredLapsed.count > 0 else { return nil }
        // Keys compare as `String`s, as the table compares a key that is not ASCII.
        let hash = withBytes(name, id) { serviceHash($0, $1) }
        return deferredLapsed.offsets(hash: hash).lazy.map { deferredLapsed.entry(at: $0).service }
            .first { $0.service.name == name && $0.service.id == id }
    }

    /// Every lapsed service still revivable, by name then id.
    public var lapsedServices: [LapsedService] {
        let view = undeferred
        return view.lapsed.sortedIndices.map { view.lapsed[$0] }
    }
}

extension Projection {
    private mutating func applyRegister(
        _ record: EventPayloadView,
        sequence: UInt64,
        time: Int64,
        hash: UInt32,
        _ move: inout LeaseMove
    ) -> ApplyEffect {
        let replaced = removeService(record, hash: hash, &move)
        let entry = LeaseEntry(
            node: strings.intern(record.node),
            network: strings.intern(record.network),
            address: strings.intern(record.address),
            registeredAtMicroseconds: time,
            lastRenewAtMicroseconds: time,
            leaseExpiresAtMicroseconds: time + leaseTTLMicroseconds,
            lastRenewSequence: sequence
        )
        move.after = insertLive(name: record.name, id: record.id, hash: hash, entry).index
        return .registered(replaced: replaced)
    }

    private mutating func applyRenew(
        _ record: EventPayloadView,
        sequence: UInt64,
        time: Int64,
        hash: UInt32,
        _ move: inout LeaseMove
    ) -> ApplyEffect {
        // Renews are most of the log: one hash, the lease extended in place, no string built.
        if let index = live.find(record.name, record.id, hash: hash) {
            move.before = index
            move.after = index
            move.expiryBefore = live[index].leaseExpiresAtMicroseconds
            if record.node.count > 0, !strings.equals(live[index].node, record.node) {
                let old = live[index].node
                live[index].node = strings.intern(record.node)
                strings.release(old)
            }
            let renewed = live[index].renew(at: time, leaseTTLMicroseconds: leaseTTLMicroseconds, sequence: sequence)
            // A replay from a snapshot keeps the index stale: no call per renew to find so.
            if renewed.needsIndex, !leaseIndexStale { indexLease(index) }
            return renewed.wasLapsed ? .revived : .renewed
        }
        undeferLapsed(hash: hash)
        guard let lapsedIndex = lapsed.find(record.name, record.id, hash: hash) else { return .notFound }
        let old = removeLapsed(lapsedIndex)
        guard old.lapsedAtMicroseconds >= time - Projection.reviveWindowMicroseconds else { return .notFound }
        var service = old.service
        if record.node.count > 0 { service.node = String(decoding: record.node, as: UTF8.self) }
        move.after = setLive(
            LiveService(
                service: service,
                registeredAtMicroseconds: old.registeredAtMicroseconds,
                lastRenewAtMicroseconds: time,
                leaseExpiresAtMicroseconds: time + leaseTTLMicroseconds,
                lastRenewSequence: sequence
            )
        )
        return .revived
    }

    private mutating func applyDeregister(
        _ record: EventPayloadView,
        hash: UInt32,
        _ move: inout LeaseMove
    ) -> ApplyEffect {
        removeService(record, hash: hash, &move)
        return .deregistered
    }

    /// Removes the record's service from the live map (noting where its lease was in `move`) and
    /// from the lapsed services: what a Register (before storing the new lease) and a Deregister do.
    /// Returns whether the service was live.
    @discardableResult
    private mutating func removeService(
        _ record: EventPayloadView,
        hash: UInt32,
        _ move: inout LeaseMove
    ) -> Bool {
        var wasLive = false
        if let index = live.find(record.name, record.id, hash: hash) {
            move.before = index
            move.expiryBefore = live[index].leaseExpiresAtMicroseconds
            removeLive(index)
            wasLive = true
        }
        undeferLapsed(hash: hash)
        if let index = lapsed.find(record.name, record.id, hash: hash) {
            removeLapsed(index)
        }
        return wasLive
    }

    private mutating func applyExpire(
        _ record: EventPayloadView,
        time: Int64,
        hash: UInt32,
        _ move: inout LeaseMove
    )
        -> ApplyEffect
    {
        guard let index = live.find(record.name, record.id, hash: hash) else { return .expireIgnored }
        move.before = index
        move.after = index
        move.expiryBefore = live[index].leaseExpiresAtMicroseconds
        guard live[index].leaseExpiresAtMicroseconds <= time else { return .expireIgnored }
        let stored = live[index]
        if let renewSequence = record.renewSequence, stored.lastRenewSequence != 0,
            stored.lastRenewSequence != renewSequence
        {
            return .expireIgnored
        }
        let entry = liveService(index)
        move.after = -1
        removeLive(index)
        let lapsedAt = record.lapsedAtMicroseconds ?? entry.leaseExpiresAtMicroseconds
        setLapsed(
            LapsedService(
                service: entry.service,
                registeredAtMicroseconds: entry.registeredAtMicroseconds,
                lapsedAtMicroseconds: lapsedAt
            )
        )
        return .expired
    }

    private mutating func applyStart(_ record: EventPayloadView, time: Int64) -> ApplyEffect {
        if let ttl = record.leaseTTLMicroseconds, ttl > 0 { leaseTTLMicroseconds = ttl }
        let expires = time + leaseTTLMicroseconds
        let count = refreshLeases { _ in expires }
        pruneLapsed(at: time)
        return .leasesRefreshed(count: count)
    }

    private mutating func applyStall(_ record: EventPayloadView, time: Int64) -> ApplyEffect {
        if let ttl = record.leaseTTLMicroseconds, ttl > 0 { leaseTTLMicroseconds = ttl }
        let floor = time + leaseTTLMicroseconds
        let count = refreshLeases { max($0, floor) }
        return .leasesRefreshed(count: count)
    }

    private mutating func pruneLapsed(at time: Int64) {
        let horizon = time - Projection.reviveWindowMicroseconds
        // Most prunes find nothing to forget: the bound spares them a pass over every lapsed service.
        guard !lapsed.isEmpty || deferredLapsed.count > 0, horizon > lapsedAtLowerBound else { return }
        var oldest = deferredLapsed.count > 0 ? deferredLapsed.prune(before: horizon) : Int64.max
        for index in 0..<lapsed.capacity where lapsed.contains(index: index) {
            let lapsedAt = lapsed[index].lapsedAtMicroseconds
            if lapsedAt < horizon {
                removeLapsed(index)
            } else {
                oldest = min(oldest, lapsedAt)
            }
        }
        lapsedAtLowerBound = oldest
    }

    /// Puts `entry` in the live map (replacing any lease of the same name and id) and the index;
    /// returns its entry index.
    @discardableResult
    mutating func setLive(_ entry: LiveService) -> Int {
        let service = entry.service
        return withBytes(service.name, service.id) { name, id in
            let hash = serviceHash(name, id)
            if let index = live.find(name, id, hash: hash) { removeLive(index) }
            let stored = LeaseEntry(
                node: strings.intern(service.node),
                network: strings.intern(service.network),
                address: strings.intern(service.address),
                registeredAtMicroseconds: entry.registeredAtMicroseconds,
                lastRenewAtMicroseconds: entry.lastRenewAtMicroseconds,
                leaseExpiresAtMicroseconds: entry.leaseExpiresAtMicroseconds,
                lastRenewSequence: entry.lastRenewSequence
            )
            return insertLive(name: name, id: id, hash: hash, stored).index
        }
    }

    /// Adds a lease that is not in the live map: links it to its name's leases and indexes it.
    /// Returns its entry index and its name's entry index in `names`. `nameIndex`, when given, is
    /// the name's entry (a snapshot load passes the previous lease's: leases come grouped by name).
    /// `newName` true says the caller knows no lease of the name is live (it is not looked up).
    /// With `placing` false neither the lease nor a new name is findable until `placeAll()` of
    /// `live` and `names` (`ServiceTable.insert`).
    @discardableResult
    mutating func insertLive(
        name: UnsafeRawBufferPointer,
        id: UnsafeRawBufferPointer,
        hash: UInt32,
        _ entry: LeaseEntry,
        nameIndex known: Int? = nil,
        newName: Bool = false,
        placing: Bool = true,
        ascii: Bool? = nil
    ) -> (index: Int, nameIndex: Int) {
        var entry = entry
        entry.previousInName = -1
        entry.nextInName = -1
        var nameHash: UInt32 = 0
        let nameIndex: Int?
        if let known {
            nameIndex = known
        } else {
            nameHash = serviceHash(name, noBytes)
            nameIndex = newName ? nil : names.find(name, noBytes, hash: nameHash)
        }
        let nameString: String
        if let nameIndex {
            nameString = names.name(at: nameIndex)
            entry.nextInName = names[nameIndex]
        } else {
            nameString = String(decoding: name, as: UTF8.self)
        }
        let index = live.insert(
            name: nameString,
            id: String(decoding: id, as: UTF8.self),
            hash: hash,
            entry,
            placing: placing,
            ascii: ascii
        )
        let stored: Int
        if let nameIndex {
            live[Int(names[nameIndex])].previousInName = Int32(index)
            names[nameIndex] = Int32(index)
            stored = nameIndex
        } else {
            stored = names.insert(name: nameString, id: "", hash: nameHash, Int32(index), placing: placing)
        }
        indexLease(index)
        return (index, stored)
    }

    /// The public form of the stored lease at entry `index`.
    package func liveService(_ index: Int) -> LiveService {
        let entry = live[index]
        return LiveService(
            service: Service(
                id: live.id(at: index),
                name: live.name(at: index),
                node: strings[entry.node],
                network: strings[entry.network],
                address: strings[entry.address]
            ),
            registeredAtMicroseconds: entry.registeredAtMicroseconds,
            lastRenewAtMicroseconds: entry.lastRenewAtMicroseconds,
            leaseExpiresAtMicroseconds: entry.leaseExpiresAtMicroseconds,
            lastRenewSequence: entry.lastRenewSequence
        )
    }

    mutating func setLapsed(_ entry: LapsedService) {
        lapsedChanges?.keys.append(LapsedKey(name: entry.service.name, id: entry.service.id))
        lapsedAtLowerBound = min(lapsedAtLowerBound, entry.lapsedAtMicroseconds)
        let (hash, found) = withBytes(entry.service.name, entry.service.id) { name, id in
            let hash = serviceHash(name, id)
            undeferLapsed(hash: hash)
            return (hash, lapsed.find(name, id, hash: hash))
        }
        if let index = found {
            lapsed[index] = entry
        } else {
            lapsed.insert(name: entry.service.name, id: entry.service.id, hash: hash, entry)
        }
    }

    /// Removes the lapsed service at entry `index` (in use); returns it.
    @discardableResult
    mutating func removeLapsed(_ index: Int) -> LapsedService {
        if lapsedChanges != nil {
            lapsedChanges?.keys.append(LapsedKey(name: lapsed.name(at: index), id: lapsed.id(at: index)))
        }
        return lapsed.remove(index: index)
    }

    /// Removes the lease at entry `index` from the live map and its name's list.
    @discardableResult
    private mutating func removeLive(_ index: Int) -> LeaseEntry {
        let previous = Int(live[index].previousInName)
        let next = Int(live[index].nextInName)
        if previous >= 0 {
            live[previous].nextInName = Int32(next)
        } else {
            // The first of its name: the name's entry points to the next, or goes with the last lease.
            let nameIndex = withBytes(live.name(at: index)) { names.find($0, noBytes) }
            guard let nameIndex else { preconditionFailure("lease \(index) has no entry for its name") }
            if next >= 0 {
                names[nameIndex] = Int32(next)
            } else {
                names.remove(index: nameIndex)
            }
        }
        if next >= 0 { live[next].previousInName = Int32(previous) }
        let removed = live.remove(index: index)
        strings.release(removed.node)
        strings.release(removed.network)
        strings.release(removed.address)
        return removed
    }
}

extension LeaseEntry {
    /// Extends the lease from `time`; returns whether the lease had lapsed by then and whether
    /// the lease index must add it (its new expiry is in an earlier bucket than the one holding it).
    fileprivate mutating func renew(
        at time: Int64,
        leaseTTLMicroseconds: Int64,
        sequence: UInt64
    )
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
    /// Equal views: the same positions, TTL, leases and lapsed services. How the view is stored
    /// (string numbers, entry indices, the lease index) is not what it is, and is ignored.
    public static func == (lhs: Projection, rhs: Projection) -> Bool {
        if lhs.deferredLapsed.count > 0 || rhs.deferredLapsed.count > 0 { return lhs.undeferred == rhs.undeferred }
        guard lhs.lastSequence == rhs.lastSequence, lhs.lastTimeMicroseconds == rhs.lastTimeMicroseconds,
            lhs.leaseTTLMicroseconds == rhs.leaseTTLMicroseconds, lhs.live.count == rhs.live.count,
            lhs.lapsed.count == rhs.lapsed.count
        else { return false }
        for index in 0..<lhs.live.capacity where lhs.live.contains(index: index) {
            guard let other = rhs.live.find(name: lhs.live.name(at: index), id: lhs.live.id(at: index)),
                lhs.liveService(index) == rhs.liveService(other)
            else { return false }
        }
        for index in 0..<lhs.lapsed.capacity where lhs.lapsed.contains(index: index) {
            guard let other = rhs.lapsed.find(name: lhs.lapsed.name(at: index), id: lhs.lapsed.id(at: index)),
                lhs.lapsed[index] == rhs.lapsed[other]
            else { return false }
        }
        return true
    }
}
