import Testing

@testable import Registry

/// Two registry instances on one shared store, as cluster mode runs them on the shared log,
/// driven by a manual clock: what each folds, who sweeps, and what a late sweep may not do.
@Suite struct ClusterFoldTests {
    /// Instances `a` (the sweeper leader) and `b` on one shared in-memory store.
    struct Cluster {
        let clock = ManualClock()
        let storeA: InMemoryEventStore
        let storeB: InMemoryEventStore
        let a: Registry
        let b: Registry

        init(leaseSeconds: Double = 10) async throws {
            storeA = InMemoryEventStore(clock: clock.closure, shared: true, leader: true)
            storeB = storeA.handle(leader: false)
            a = try await Registry.open(
                Cluster.configuration("a", clock, leaseSeconds), store: storeA, snapshots: InMemorySnapshotStore(),
                logger: quietLogger)
            b = try await Registry.open(
                Cluster.configuration("b", clock, leaseSeconds), store: storeB, snapshots: InMemorySnapshotStore(),
                logger: quietLogger)
        }

        static func configuration(_ instance: String, _ clock: ManualClock, _ leaseSeconds: Double)
            -> RegistryConfiguration
        {
            var configuration = RegistryConfiguration(dataDirectory: "/nonexistent-\(instance)")
            configuration.instance = instance
            configuration.clock = clock.closure
            configuration.leaseTTLMicroseconds = micros(leaseSeconds)
            configuration.randomSeed = 3
            return configuration
        }

        /// Folds everything in the shared store into both instances (what their tails deliver).
        func catchUp() async throws {
            try await a.ingest(storeA.records)
            try await b.ingest(storeA.records)
        }

        func events() throws -> [RegistryEvent] {
            try storeA.records.map { try EventCodec.decode($0) }
        }
    }

    // Proves a register on one instance is answered by the other once folded, a renew on the
    // other extends the same lease, and a deregister on either removes it everywhere.
    @Test func writesOnOneInstanceAreSeenByTheOther() async throws {
        let cluster = try await Cluster()
        try await cluster.a.register(service("c1"), peer: peerV4)
        try await cluster.catchUp()
        #expect(try await cluster.b.get(name: "tunnel-a").map(\.id) == ["c1"])
        cluster.clock.advance(seconds: 8)
        #expect(try await cluster.b.renew(id: "c1", name: "tunnel-a", node: "node-1", peer: peerV4) == .renewed)
        try await cluster.catchUp()
        cluster.clock.advance(seconds: 8)
        #expect(try await cluster.a.get(name: "tunnel-a").map(\.id) == ["c1"], "b's renew extended a's view")
        try await cluster.b.deregister(id: "c1", name: "tunnel-a", node: "node-1", peer: peerV4)
        try await cluster.catchUp()
        #expect(try await cluster.a.get(name: "tunnel-a").isEmpty)
        #expect(try await cluster.b.get(name: "tunnel-a").isEmpty)
        #expect(try cluster.events().filter { $0.kind == .renew }.map(\.instance) == ["b"])
    }

    // Proves only the leader sweeps: a new leader first grants every lease a fresh TTL (a
    // `start` record), a follower appends nothing, and a lapsed lease is expired exactly once.
    @Test func onlyTheLeaderSweeps() async throws {
        let cluster = try await Cluster()
        try await cluster.a.register(service("c1"), peer: peerV4)
        try await cluster.catchUp()
        await cluster.b.maintain()
        #expect(try cluster.events().map(\.kind) == [.register], "a follower appends nothing")
        await cluster.a.maintain()
        #expect(try cluster.events().map(\.kind) == [.register, .start], "a new leader grants fresh leases first")
        for _ in 0..<11 {
            cluster.clock.advance(seconds: 1)
            await cluster.b.maintain()
            await cluster.a.maintain()
        }
        try await cluster.catchUp()
        let kinds = try cluster.events().map(\.kind)
        #expect(kinds == [.register, .start, .expire])
        #expect(try await cluster.b.get(name: "tunnel-a").isEmpty)
    }

    // Proves a leader that lost its leadership cannot expire a lease (the store fences it),
    // and the next leader's first act is a fresh TTL for every lease, not a mass expiry.
    @Test func failoverNeverExpiresEveryLease() async throws {
        let cluster = try await Cluster()
        try await cluster.a.register(service("c1"), peer: peerV4)
        await cluster.a.maintain()
        try await cluster.catchUp()
        cluster.storeA.setLeader(false)
        for _ in 0..<30 {
            cluster.clock.advance(seconds: 1)
            _ = try? await cluster.a.sweep()
        }
        await #expect(throws: NotSweeperLeaderError.self) { try await cluster.a.sweep() }
        #expect(await cluster.a.isWritable, "a fenced leader's store is still writable")
        cluster.storeB.setLeader(true)
        await cluster.b.maintain()
        try await cluster.catchUp()
        #expect(try cluster.events().map(\.kind) == [.register, .start, .start])
        #expect(try await cluster.a.get(name: "tunnel-a").map(\.id) == ["c1"], "the failover refreshed the lease")
        #expect(try await cluster.b.get(name: "tunnel-a").map(\.id) == ["c1"])
    }

    // Proves an expire decided before a renew but logged after it leaves the lease live on
    // every instance: it names the lease's last renew, which the later renew replaced.
    @Test func lateExpireAfterRenewIsIgnored() async throws {
        let cluster = try await Cluster()
        try await cluster.a.register(service("c1"), peer: peerV4)
        await cluster.a.maintain()
        try await cluster.catchUp()
        cluster.clock.advance(seconds: 11)
        let stale = try #require(await cluster.a.currentProjection.liveEntry(name: "tunnel-a", id: "c1"))
        #expect(try await cluster.b.renew(id: "c1", name: "tunnel-a", node: "node-1", peer: peerV4) == .revived)
        cluster.clock.advance(seconds: 10)
        // The leader's sweep, decided on the stale entry, lands after the renew's lease lapsed too.
        try await cluster.catchUp()
        _ = try await cluster.a.commit([cluster.a.expireEvent(stale)], asLeader: true)
        try await cluster.catchUp()
        let expire = try #require(try cluster.events().last)
        #expect(expire.kind == .expire && expire.renewSequence == stale.lastRenewSequence)
        #expect(await cluster.a.currentProjection.liveEntry(name: "tunnel-a", id: "c1") != nil)
        #expect(await cluster.b.currentProjection.liveEntry(name: "tunnel-a", id: "c1") != nil)
    }

    // Proves the tail and an instance's own appends fold in one sequence order, whatever
    // arrives first, and every mutation still returns its own effect.
    @Test func tailAndOwnAppendsFoldInOrder() async throws {
        let cluster = try await Cluster()
        let followA = Task { try await cluster.a.run() }
        let followB = Task { try await cluster.b.run() }
        defer {
            followA.cancel()
            followB.cancel()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask { try await cluster.a.register(service("a\(index)"), peer: peerV4) }
                group.addTask { try await cluster.b.register(service("b\(index)"), peer: peerV4) }
            }
            try await group.waitForAll()
        }
        for index in 0..<50 {
            #expect(try await cluster.b.renew(id: "a\(index)", name: "tunnel-a", node: "n", peer: peerV4) == .renewed)
        }
        var caughtUp = false
        for _ in 0..<6_000 where !caughtUp {
            let last = UInt64(cluster.storeA.records.count)
            let folded = (await cluster.a.currentProjection.lastSequence, await cluster.b.currentProjection.lastSequence)
            caughtUp = folded == (last, last)
            if !caughtUp { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(caughtUp, "both instances fold every record of the shared store")
        #expect(await cluster.a.currentProjection == cluster.b.currentProjection)
        #expect(await cluster.b.currentProjection.liveEntryCount == 100)
    }
}
