/// The projection's leases by expiry, so the sweeper finds what lapsed without scanning every
/// lease: a timer wheel of ~1 s buckets (`bucketShift`), each a list of entry indices in
/// `Projection.live`.
///
/// Deletion is lazy: a deregistered, expired or renewed lease stays in its bucket and is dropped
/// (or moved to the bucket of its new expiry) when the sweeper reaches that bucket. A lease sits in
/// exactly one bucket, `LeaseEntry.indexedBucket`, never later than the bucket of its expiry: a
/// renew, which only pushes expiry later, costs nothing here; a lease whose expiry moves earlier
/// (a `start` with a shorter TTL, a clock stepping back) is added to the earlier bucket. Entries
/// naming another bucket than their lease's `indexedBucket` are stale and skipped, and so are entries
/// whose lease is gone (an entry index reused by another lease is a stale entry or a duplicate).
struct LeaseIndex: Sendable {
    /// Buckets are 2^20 µs (~1.05 s) of expiry.
    static let bucketShift: Int64 = 20
    /// `indexedBucket` of a lease that is in no bucket (taken by the sweeper).
    static let notIndexed = Int64.max

    /// A lease's entry index in `Projection.live`.
    typealias Key = Int32

    var buckets: [Int64: [Key]] = [:]

    static func bucket(_ timeMicroseconds: Int64) -> Int64 { timeMicroseconds >> bucketShift }

    /// Buckets at or before `bucket`, earliest first.
    func dueBuckets(through bucket: Int64) -> [Int64] {
        buckets.keys.filter { $0 <= bucket }.sorted()
    }

    mutating func add(_ key: Key, to bucket: Int64) {
        buckets[bucket, default: []].append(key)
    }
}

/// Leases the sweeper took out of the index: `leases` lapsed by the time asked (in lapse order
/// within the batch); `complete` is false when the work limit stopped the walk early (ask again).
public struct LapsedBatch: Sendable {
    public var leases: [LiveService]
    public var complete: Bool
}

extension Projection {
    /// Most index entries one `takeLapsedLeases` call examines, so a caller on an actor never
    /// holds it for long (a bucket after a `start` holds every lease).
    static let leaseIndexWorkMax = 65_536

    /// Adds the lease at entry `index` to the index when its expiry's bucket is earlier than the one
    /// holding it (always for a lease not indexed). Nothing while the index is stale.
    mutating func indexLease(_ index: Int) {
        guard !leaseIndexStale else { return }
        let bucket = LeaseIndex.bucket(live[index].leaseExpiresAtMicroseconds)
        guard bucket < live[index].indexedBucket else { return }
        live[index].indexedBucket = bucket
        leaseIndex.add(LeaseIndex.Key(index), to: bucket)
    }

    /// Builds the index from the live leases when it is stale.
    mutating func ensureLeaseIndex() {
        guard leaseIndexStale else { return }
        _ = refreshLeases { $0 }
    }

    /// Gives every live lease the expiry `newExpiry(old expiry)` and rebuilds the index from them
    /// (`start` and `stall` move every lease); returns how many leases there are.
    mutating func refreshLeases(_ newExpiry: (Int64) -> Int64) -> Int {
        leaseIndex.buckets.removeAll(keepingCapacity: false)
        var buckets: [Int64: [LeaseIndex.Key]] = [:]
        // After a `start` every lease shares one bucket: collect a run of equal buckets in a local
        // array and store it once, rather than one dictionary lookup per lease.
        var runBucket = LeaseIndex.notIndexed
        var run: [LeaseIndex.Key] = []
        func storeRun() {
            guard !run.isEmpty else { return }
            if buckets[runBucket] == nil {
                buckets[runBucket] = run
            } else {
                buckets[runBucket]!.append(contentsOf: run)
            }
            run = []
        }
        var count = 0
        for index in 0..<live.capacity where live.contains(index: index) {
            let expiry = newExpiry(live[index].leaseExpiresAtMicroseconds)
            let bucket = LeaseIndex.bucket(expiry)
            live[index].leaseExpiresAtMicroseconds = expiry
            live[index].indexedBucket = bucket
            if bucket != runBucket {
                storeRun()
                runBucket = bucket
            }
            run.append(LeaseIndex.Key(index))
            count += 1
        }
        storeRun()
        leaseIndex.buckets = buckets
        leaseIndexStale = false
        return count
    }

    /// Takes up to `limit` leases that lapsed at or before `timeMicroseconds` out of the index
    /// (the sweeper logs their `expire`); leases renewed since they were indexed move to the
    /// bucket of their new expiry on the way. A taken lease returns to the index when it is
    /// renewed or through `restoreLeaseIndex`; a pass where nothing lapsed touches only the
    /// buckets that came due.
    public mutating func takeLapsedLeases(at timeMicroseconds: Int64, limit: Int) -> LapsedBatch {
        precondition(limit > 0, "limit \(limit) must be positive")
        ensureLeaseIndex()
        var taken: [LiveService] = []
        var examined = 0
        var complete = true
        for bucket in leaseIndex.dueBuckets(through: LeaseIndex.bucket(timeMicroseconds)) {
            guard taken.count < limit, examined < Projection.leaseIndexWorkMax else {
                complete = false
                break
            }
            var keys = leaseIndex.buckets.removeValue(forKey: bucket) ?? []
            var kept: [LeaseIndex.Key] = []
            while taken.count < limit, examined < Projection.leaseIndexWorkMax, let key = keys.popLast() {
                examined += 1
                let index = Int(key)
                guard live.contains(index: index), live[index].indexedBucket == bucket else { continue }
                let expiry = live[index].leaseExpiresAtMicroseconds
                if expiry <= timeMicroseconds {
                    live[index].indexedBucket = LeaseIndex.notIndexed
                    taken.append(liveService(index))
                    continue
                }
                let later = LeaseIndex.bucket(expiry)
                if later == bucket {
                    kept.append(key)
                } else {
                    live[index].indexedBucket = later
                    leaseIndex.add(key, to: later)
                }
            }
            // What stays goes back without copying what was not examined (a batch out of a bucket
            // of 100,000 lapsed leases must not cost the whole bucket).
            if !keys.isEmpty { complete = false }
            keys.append(contentsOf: kept)
            if !keys.isEmpty {
                if let added = leaseIndex.buckets.removeValue(forKey: bucket) { keys += added }
                leaseIndex.buckets[bucket] = keys
            }
        }
        return LapsedBatch(leases: Projection.sortedByLapse(taken), complete: complete)
    }

    /// Puts leases taken by `takeLapsedLeases` that are still live and not indexed again (their
    /// `expire` failed or was ignored) back into the index.
    public mutating func restoreLeaseIndex(_ leases: [LiveService]) {
        ensureLeaseIndex()
        for lease in leases {
            guard let index = live.find(name: lease.service.name, id: lease.service.id),
                live[index].indexedBucket == LeaseIndex.notIndexed
            else { continue }
            indexLease(index)
        }
    }

    /// `leases` in lapse order. Sorts positions and reads the leases in place: sorting the
    /// leases themselves copied every compared lease (five strings retained and released).
    static func sortedByLapse(_ leases: [LiveService]) -> [LiveService] {
        leases.withUnsafeBufferPointer { buffer in
            var order = Array(buffer.indices)
            order.sort { lapsesEarlier(buffer[$0], buffer[$1]) }
            return order.map { buffer[$0] }
        }
    }

    /// Lapse order: by expiry, then name, then id (strings compared only on a tie).
    @inline(__always)
    static func lapsesEarlier(_ left: LiveService, _ right: LiveService) -> Bool {
        if left.leaseExpiresAtMicroseconds != right.leaseExpiresAtMicroseconds {
            return left.leaseExpiresAtMicroseconds < right.leaseExpiresAtMicroseconds
        }
        if left.service.name != right.service.name { return left.service.name < right.service.name }
        return left.service.id < right.service.id
    }

    /// Those of `leases` (taken by `takeLapsedLeases`) that are still live and out of the index.
    public func leasesStillTaken(_ leases: [LiveService]) -> [LiveService] {
        guard !leaseIndexStale else { return [] }
        return leases.filter { lease in
            live.find(name: lease.service.name, id: lease.service.id).map {
                live[$0].indexedBucket == LeaseIndex.notIndexed
            } ?? false
        }
    }

    /// Leases in the live map that lapsed at or before `timeMicroseconds` (what the sweeper
    /// expires), oldest lapse first. Reads only the index buckets that came due; leases the
    /// sweeper has taken out of the index (their `expire` in flight) are not included.
    public func lapsedLeases(at timeMicroseconds: Int64) -> [LiveService] {
        // A stale index holds nothing and no lease is taken: every lapsed lease counts.
        guard !leaseIndexStale else { return lapsedLeasesByScan(at: timeMicroseconds) }
        var result: [LiveService] = []
        for bucket in leaseIndex.dueBuckets(through: LeaseIndex.bucket(timeMicroseconds)) {
            var seen = Set<LeaseIndex.Key>()
            for key in leaseIndex.buckets[bucket] ?? [] {
                let index = Int(key)
                guard live.contains(index: index), live[index].indexedBucket == bucket,
                    live[index].leaseExpiresAtMicroseconds <= timeMicroseconds, seen.insert(key).inserted
                else { continue }
                result.append(liveService(index))
            }
        }
        return Projection.sortedByLapse(result)
    }

    /// The same as `lapsedLeases(at:)` by scanning every lease (the reference tests compare with).
    func lapsedLeasesByScan(at timeMicroseconds: Int64) -> [LiveService] {
        var result: [LiveService] = []
        for index in 0..<live.capacity
        where live.contains(index: index) && live[index].leaseExpiresAtMicroseconds <= timeMicroseconds {
            result.append(liveService(index))
        }
        return Projection.sortedByLapse(result)
    }
}
