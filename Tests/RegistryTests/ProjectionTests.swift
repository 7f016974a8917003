import Testing

@testable import Registry

@Suite struct ProjectionTests {
    // Proves a register makes the service live until exactly time + TTL, and never after.
    @Test func registerStartsLease() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .start, name: "", ttl: micros(10)))
        projection.apply(event(2, at: 100, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        #expect(projection.liveServices(named: "tunnel-a", at: micros(109.999)).map(\.service.id) == ["a"])
        #expect(projection.liveServices(named: "tunnel-a", at: micros(110)).isEmpty)
        #expect(projection.liveServices(at: micros(110)).isEmpty)
        let entry = projection.liveEntry(name: "tunnel-a", id: "a")
        #expect(entry?.registeredAtMicroseconds == micros(100))
        #expect(entry?.leaseExpiresAtMicroseconds == micros(110))
    }

    // Proves the default TTL (45 s) applies before any start record.
    @Test func defaultTTLBeforeStart() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        #expect(projection.liveEntry(name: "tunnel-a", id: "a")?.leaseExpiresAtMicroseconds == micros(45))
    }

    // Proves renew of a live lease extends it from the renew's time and reports renewed.
    @Test func renewExtendsLiveLease() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .start, name: "", ttl: micros(10)))
        projection.apply(event(2, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        #expect(projection.apply(event(3, at: 8, .renew, id: "a")) == .renewed)
        let entry = projection.liveEntry(name: "tunnel-a", id: "a")
        #expect(entry?.lastRenewAtMicroseconds == micros(8))
        #expect(entry?.leaseExpiresAtMicroseconds == micros(18))
        #expect(entry?.service.address == "1.2.3.4:80")
    }

    // Proves expire moves a lapsed lease to the lapsed set, and renew revives it with its
    // last network/address.
    @Test func expireThenRenewRevives() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .start, name: "", ttl: micros(10)))
        projection.apply(event(2, at: 0, .register, id: "a", network: "udp", address: "1.2.3.4:53"))
        #expect(projection.apply(event(3, at: 11, .expire, id: "a", lapsedAt: micros(10))) == .expired)
        #expect(projection.liveServices(at: micros(11)).isEmpty)
        #expect(projection.lapsedEntry(name: "tunnel-a", id: "a")?.lapsedAtMicroseconds == micros(10))
        #expect(projection.apply(event(4, at: 30, .renew, id: "a", node: "node-1")) == .revived)
        let live = projection.liveServices(named: "tunnel-a", at: micros(30))
        #expect(live.map(\.service) == [service("a", network: "udp", address: "1.2.3.4:53")])
        #expect(live.first?.leaseExpiresAtMicroseconds == micros(40))
        #expect(projection.lapsedEntry(name: "tunnel-a", id: "a") == nil)
    }

    // Proves a renew moves the lease to the node it names (compared with the stored node's
    // bytes: the same length and other bytes, short and long names) and keeps it on the same one.
    @Test func renewNamingAnotherNodeMovesTheLease() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .start, name: "", ttl: micros(10)))
        projection.apply(event(2, at: 0, .register, id: "a", node: "node-1"))
        let long = "a-node-whose-name-is-not-small-1"
        let nodes = ["node-1", "node-2", long, long, "a-node-whose-name-is-not-small-2"]
        for (offset, node) in nodes.enumerated() {
            let renew = event(UInt64(3 + offset), at: Double(3 + offset), .renew, id: "a", node: node)
            #expect(projection.apply(renew) == .renewed)
            #expect(projection.liveEntry(name: "tunnel-a", id: "a")?.service.node == node)
        }
    }

    // Proves a renew of a lapsed lease that was never swept also revives (the fold does not
    // depend on the server having logged the expire).
    @Test func renewOfUnsweptLapsedLeaseRevives() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .start, name: "", ttl: micros(10)))
        projection.apply(event(2, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        #expect(projection.apply(event(3, at: 20, .renew, id: "a")) == .revived)
        #expect(projection.liveServices(at: micros(25)).count == 1)
    }

    // Proves renew of a never-seen or deregistered service changes nothing and reports notFound.
    @Test func renewOfUnknownIsNotFound() {
        var projection = Projection()
        #expect(projection.apply(event(1, at: 0, .renew, id: "ghost")) == .notFound)
        projection.apply(event(2, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(3, at: 1, .deregister, id: "a"))
        #expect(projection.apply(event(4, at: 2, .renew, id: "a")) == .notFound)
        #expect(projection.liveServices(at: micros(2)).isEmpty)
        #expect(projection.lastSequence == 4)
    }

    // Proves deregister removes live and lapsed services and is fine for unknown ones.
    @Test func deregisterRemoves() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        #expect(projection.apply(event(2, at: 1, .deregister, id: "a")) == .deregistered)
        #expect(projection.apply(event(3, at: 1, .deregister, id: "zz")) == .deregistered)
        projection.apply(event(4, at: 2, .register, id: "b", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(5, at: 100, .expire, id: "b", lapsedAt: micros(47)))
        projection.apply(event(6, at: 101, .deregister, id: "b"))
        #expect(projection.apply(event(7, at: 102, .renew, id: "b")) == .notFound)
        #expect(projection.liveEntryCount == 0 && projection.lapsedEntryCount == 0)
    }

    // Proves an expire for a lease renewed since the sweeper saw it is ignored.
    @Test func staleExpireIsIgnored() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .start, name: "", ttl: micros(10)))
        projection.apply(event(2, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(3, at: 10.5, .renew, id: "a"))
        #expect(projection.apply(event(4, at: 10.6, .expire, id: "a", lapsedAt: micros(10))) == .expireIgnored)
        #expect(projection.liveServices(at: micros(11)).count == 1)
    }

    // Proves a start gives every restored lease, lapsed or not, a fresh TTL from its time and
    // sets the TTL in force.
    @Test func startGrantsFreshTTL() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .start, name: "", ttl: micros(10)))
        projection.apply(event(2, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(3, at: 5, .register, id: "b", network: "tcp", address: "1.2.3.4:80"))
        #expect(projection.apply(event(4, at: 500, .start, name: "", ttl: micros(30))) == .leasesRefreshed(count: 2))
        #expect(projection.liveServices(at: micros(529)).map(\.service.id) == ["a", "b"])
        #expect(projection.liveServices(at: micros(530)).isEmpty)
        #expect(projection.leaseTTLMicroseconds == micros(30))
        projection.apply(event(5, at: 600, .register, id: "c", network: "tcp", address: "1.2.3.4:80"))
        #expect(projection.liveEntry(name: "tunnel-a", id: "c")?.leaseExpiresAtMicroseconds == micros(630))
    }

    // Proves a stall extends every lease to at least its time + TTL and never shortens one.
    @Test func stallExtendsLeases() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .start, name: "", ttl: micros(10)))
        projection.apply(event(2, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(3, at: 90, .register, id: "b", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(4, at: 95, .stall, name: "", ttl: micros(2)))
        #expect(projection.liveEntry(name: "tunnel-a", id: "a")?.leaseExpiresAtMicroseconds == micros(97))
        #expect(projection.liveEntry(name: "tunnel-a", id: "b")?.leaseExpiresAtMicroseconds == micros(100))
    }

    // Proves lapsed services beyond the revive window are forgotten at the next start.
    @Test func lapsedBeyondWindowArePruned() {
        var projection = Projection()
        projection.apply(event(1, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(2, at: 50, .expire, id: "a", lapsedAt: micros(45)))
        let later = Double(Projection.reviveWindowMicroseconds) / 1_000_000 + 100
        #expect(projection.apply(event(3, at: later, .renew, id: "a")) == .notFound)
        projection.apply(event(4, at: later, .register, id: "b", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(5, at: later + 50, .expire, id: "b", lapsedAt: micros(later + 45)))
        projection.apply(event(6, at: later * 2 + 100, .start, name: "", ttl: micros(45)))
        #expect(projection.lapsedEntryCount == 0)
    }

    // Proves the fold is deterministic: the same events give equal views and equal bytes.
    @Test func foldIsDeterministic() {
        let events = RandomEvents.generate(count: 2_000, seed: 11)
        var first = Projection()
        var second = Projection()
        events.forEach { first.apply($0) }
        events.forEach { second.apply($0) }
        #expect(first == second)
        #expect(first.encoded() == second.encoded())
    }
}

/// A seeded generator of plausible event sequences for property tests.
enum RandomEvents {
    static func generate(count: Int, seed: UInt64) -> [RegistryEvent] {
        var random = RegistryRandom(seed: seed)
        var time = micros(1_000)
        var events: [RegistryEvent] = []
        let names = (0..<6).map { "tunnel-\($0)" }
        let nodes = ["n1", "n2", "n3"]
        for sequence in 1...UInt64(count) {
            time += Int64(random.next() % 3_000_000)
            let id = "c\(random.next() % 40)"
            let name = names[Int(random.next() % UInt64(names.count))]
            let node = nodes[Int(random.next() % 3)]
            let roll = random.next() % 100
            let kind: EventKind
            switch roll {
            case 0..<25: kind = .register
            case 25..<70: kind = .renew
            case 70..<80: kind = .deregister
            case 80..<96: kind = .expire
            case 96..<98: kind = .start
            default: kind = .stall
            }
            let ttl: Int64? = kind == .start || kind == .stall ? micros(Double(5 + random.next() % 40)) : nil
            let lapsed: Int64? = kind == .expire ? time - Int64(random.next() % 5_000_000) : nil
            events.append(
                RegistryEvent(
                    sequence: sequence, timeMicroseconds: time, kind: kind,
                    service: Service(
                        id: id, name: name, node: node, network: kind == .register ? "tcp" : "",
                        address: kind == .register ? "10.0.0.\(random.next() % 9):80" : ""),
                    peer: "10.9.9.9:1", lapsedAtMicroseconds: lapsed, leaseTTLMicroseconds: ttl))
        }
        return events
    }
}
