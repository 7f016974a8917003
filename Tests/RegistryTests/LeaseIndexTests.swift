import Testing

@testable import Registry

@Suite struct LeaseIndexTests {
    func registered(_ ids: [(String, Double)], ttl: Double = 10) -> Projection {
        var projection = Projection()
        projection.apply(event(1, at: 0, .start, name: "", ttl: micros(ttl)))
        for (offset, (id, seconds)) in ids.enumerated() {
            projection.apply(
                event(UInt64(offset + 2), at: seconds, .register, id: id, network: "tcp", address: "1.2.3.4:80"))
        }
        return projection
    }

    // Proves the index hands out exactly the lapsed leases, oldest lapse first, and only once.
    @Test func takesLapsedLeasesInExpiryOrder() {
        var projection = registered([("c", 3), ("a", 1), ("d", 30), ("b", 2)])
        let batch = projection.takeLapsedLeases(at: micros(13), limit: 100)
        #expect(batch.complete)
        #expect(batch.leases.map(\.service.id) == ["a", "b", "c"])
        #expect(batch.leases.map(\.leaseExpiresAtMicroseconds) == [micros(11), micros(12), micros(13)])
        #expect(projection.takeLapsedLeases(at: micros(13), limit: 100).leases.isEmpty)
        #expect(projection.takeLapsedLeases(at: micros(40), limit: 100).leases.map(\.service.id) == ["d"])
    }

    // Proves a batch stops at its limit and the rest comes with the next call.
    @Test func limitSplitsBatches() {
        var projection = registered((0..<5).map { ("s\($0)", Double($0)) })
        let first = projection.takeLapsedLeases(at: micros(100), limit: 2)
        let second = projection.takeLapsedLeases(at: micros(100), limit: 10)
        #expect(first.leases.count == 2 && !first.complete)
        #expect(Set((first.leases + second.leases).map(\.service.id)) == ["s0", "s1", "s2", "s3", "s4"])
        #expect(second.complete)
    }

    // Proves lazy deletion: a renewed lease moves to its new expiry, a deregistered one is dropped.
    @Test func renewAndDeregisterDeleteLazily() {
        var projection = registered([("a", 0), ("b", 0), ("c", 0)])
        projection.apply(event(5, at: 5, .renew, id: "a"))
        projection.apply(event(6, at: 6, .deregister, id: "b"))
        #expect(projection.takeLapsedLeases(at: micros(11), limit: 10).leases.map(\.service.id) == ["c"])
        #expect(projection.takeLapsedLeases(at: micros(14.9), limit: 10).leases.isEmpty)
        #expect(projection.takeLapsedLeases(at: micros(15), limit: 10).leases.map(\.service.id) == ["a"])
    }

    // Proves a lease taken for an expire that never folded returns to the index, and a taken
    // lease that is renewed is indexed again by the renew.
    @Test func restoreAndRenewReindexTakenLeases() {
        var projection = registered([("a", 0), ("b", 0)])
        let taken = projection.takeLapsedLeases(at: micros(11), limit: 10).leases
        #expect(taken.map(\.service.id) == ["a", "b"])
        projection.apply(event(4, at: 11, .renew, id: "a"))
        projection.restoreLeaseIndex(taken)
        #expect(projection.takeLapsedLeases(at: micros(12), limit: 10).leases.map(\.service.id) == ["b"])
        #expect(projection.takeLapsedLeases(at: micros(21), limit: 10).leases.map(\.service.id) == ["a"])
    }

    // Proves start and stall move every lease in the index: start to a fresh TTL (earlier here,
    // with a shorter TTL), stall to at least its time + TTL.
    @Test func startAndStallRefreshTheIndex() {
        var projection = registered([("a", 0), ("b", 50)], ttl: 100)
        projection.apply(event(4, at: 60, .start, name: "", ttl: micros(10)))
        #expect(projection.takeLapsedLeases(at: micros(69), limit: 10).leases.isEmpty)
        #expect(projection.takeLapsedLeases(at: micros(70), limit: 10).leases.map(\.service.id) == ["a", "b"])
        var stalled = registered([("a", 0), ("b", 50)], ttl: 10)
        stalled.apply(event(4, at: 55, .stall, name: "", ttl: micros(10)))
        #expect(stalled.takeLapsedLeases(at: micros(64), limit: 10).leases.isEmpty)
        #expect(stalled.takeLapsedLeases(at: micros(65), limit: 10).leases.map(\.service.id) == ["a", "b"])
    }

    // Proves, on seeded random histories, that the index finds exactly what a scan of every
    // lease finds, that a sweeper folding expires from it keeps finding it, and that the index's
    // state never makes two equal folds compare unequal.
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func matchesFullScanOnRandomHistories(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var swept = Projection()
        var plain = Projection()
        var sequence: UInt64 = 0
        var time: Int64 = 1_000_000
        let ids = (0..<40).map { "c\($0)" }
        let names = ["t1", "t2", "t3"]
        func fold(_ event: RegistryEvent) {
            swept.apply(event)
            plain.apply(event)
        }
        for step in 0..<3_000 {
            time += Int64(random.next() % 3_000_000)
            sequence += 1
            let id = ids[Int(random.next() % UInt64(ids.count))]
            let name = names[Int(random.next() % UInt64(names.count))]
            let roll = random.next() % 100
            let kind: EventKind =
                roll < 30 ? .register : roll < 80 ? .renew : roll < 92 ? .deregister : roll < 97 ? .start : .stall
            let ttl: Int64? = kind.isServiceEvent ? nil : Int64(5 + random.next() % 40) * 1_000_000
            fold(
                RegistryEvent(
                    sequence: sequence, timeMicroseconds: time, kind: kind,
                    service: Service(id: id, name: name, node: "n\(random.next() % 4)", network: "tcp", address: "a:1"),
                    peer: "", leaseTTLMicroseconds: ttl))
            guard step % 7 == 0 else { continue }
            #expect(swept.lapsedLeases(at: time) == swept.lapsedLeasesByScan(at: time))
            let expected = swept.lapsedLeasesByScan(at: time)
            let batch = swept.takeLapsedLeases(at: time, limit: 1_000)
            #expect(batch.complete)
            #expect(batch.leases == expected)
            let folding = random.next() % 4 != 0
            for lease in batch.leases where folding {
                sequence += 1
                fold(
                    RegistryEvent(
                        sequence: sequence, timeMicroseconds: time, kind: .expire, service: lease.service, peer: "",
                        lapsedAtMicroseconds: lease.leaseExpiresAtMicroseconds, renewSequence: lease.lastRenewSequence))
            }
            swept.restoreLeaseIndex(batch.leases)
            #expect(swept == plain)
        }
        #expect(swept.snapshotBytes() == plain.snapshotBytes())
        #expect(try Projection(snapshotBytes: swept.snapshotBytes()) == plain)
    }
}
