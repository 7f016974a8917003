import EventLog
import FileStore
import Testing

@testable import Registry

@Suite struct RegistryActorTests {
    // Proves open logs a start record with the TTL, and register/get/deregister work and are logged
    // with the caller as peer.
    @Test func registerGetDeregister() async throws {
        let harness = try Harness()
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        try await registry.register(service("a", address: ":80"), peer: peerV4)
        #expect(try await registry.get(name: "tunnel-a") == [service("a", address: "10.0.0.5:80")])
        #expect(try await registry.get(name: "unknown").isEmpty)
        try await registry.deregister(id: "a", name: "tunnel-a", node: "node-1", peer: peerV4)
        #expect(try await registry.get(name: "tunnel-a").isEmpty)
        let events = try harness.events()
        #expect(events.map(\.kind) == [.start, .register, .deregister])
        #expect(events[0].leaseTTLMicroseconds == micros(45))
        #expect(events[1].peer == "10.0.0.5:40000")
        #expect(events[1].service.address == "10.0.0.5:80")
        #expect(events.map(\.sequence) == [1, 2, 3])
    }

    // Proves invalid input throws invalidArgument and never reaches the log.
    @Test func invalidInputIsNeverLogged() async throws {
        let harness = try Harness()
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        await #expect(throws: RegistryError.self) {
            try await registry.register(service("a", network: "icmp"), peer: peerV4)
        }
        await #expect(throws: RegistryError.self) {
            _ = try await registry.renew(id: "", name: "t", node: "", peer: peerV4)
        }
        await #expect(throws: RegistryError.self) {
            try await registry.deregister(id: "a", name: "", node: "", peer: peerV4)
        }
        await #expect(throws: RegistryError.self) { _ = try await registry.get(name: "") }
        #expect(harness.store.records.count == 1)
    }

    // Proves renew and deregister of unknown services are logged; renew answers notFound.
    @Test func unknownServicesAreLogged() async throws {
        let harness = try Harness()
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        #expect(try await registry.renew(id: "x", name: "t", node: "n", peer: peerV4) == .notFound)
        try await registry.deregister(id: "x", name: "t", node: "n", peer: peerV4)
        #expect(try harness.events().map(\.kind) == [.start, .renew, .deregister])
    }

    // Proves a lapsed lease is expired by the sweeper with the lapse instant, Get stops
    // returning it at once, and a later renew revives it from its last address.
    @Test func leaseExpiryAndRevive() async throws {
        let harness = try Harness(leaseSeconds: 10)
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        let registeredAt = harness.clock.now()
        try await registry.register(service("a", network: "udp", address: "1.2.3.4:53"), peer: peerV4)
        harness.clock.advance(seconds: 9.5)
        #expect(try await registry.get(name: "tunnel-a").count == 1)
        try await registry.sweep()
        harness.clock.advance(seconds: 0.5)
        #expect(try await registry.get(name: "tunnel-a").isEmpty)
        #expect(try await registry.sweep() == 1)
        let expire = try #require(try harness.events().last)
        #expect(expire.kind == .expire)
        #expect(expire.lapsedAtMicroseconds == registeredAt + micros(10))
        #expect(expire.service.address == "1.2.3.4:53")
        #expect(try await registry.sweep() == 0)
        harness.clock.advance(seconds: 0.5)
        #expect(try await registry.renew(id: "a", name: "tunnel-a", node: "node-1", peer: peerV4) == .revived)
        #expect(try await registry.get(name: "tunnel-a") == [service("a", network: "udp", address: "1.2.3.4:53")])
    }

    // Proves a renew that finds its lease lapsed but unswept logs the expire first, then revives.
    @Test func renewOfUnsweptLapseLogsExpireFirst() async throws {
        let harness = try Harness(leaseSeconds: 10)
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        try await registry.register(service("a"), peer: peerV4)
        let registeredAt = harness.clock.now()
        harness.clock.advance(seconds: 12)
        #expect(try await registry.renew(id: "a", name: "tunnel-a", node: "node-1", peer: peerV4) == .revived)
        let events = try harness.events()
        #expect(events.suffix(2).map(\.kind) == [.expire, .renew])
        #expect(events[events.count - 2].lapsedAtMicroseconds == registeredAt + micros(10))
        #expect(events[events.count - 2].timeMicroseconds == events[events.count - 1].timeMicroseconds)
    }

    // Proves renew of a live lease keeps it live past its first expiry.
    @Test func renewKeepsServiceLive() async throws {
        let harness = try Harness(leaseSeconds: 10)
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        try await registry.register(service("a"), peer: peerV4)
        for _ in 0..<5 {
            try await harness.advance(seconds: 6, sweeping: registry)
            #expect(try await registry.renew(id: "a", name: "tunnel-a", node: "node-1", peer: peerV4) == .renewed)
        }
        #expect(try await registry.get(name: "tunnel-a").count == 1)
        #expect(try harness.events().allSatisfy { $0.kind != .expire })
    }

    // Proves freshest order puts recently renewed services first, each tier shuffled, and
    // shuffle order returns the same set.
    @Test func getOrderTiers() async throws {
        var harness = try Harness(leaseSeconds: 45)
        defer { harness.directory.remove() }
        harness.configuration.freshWindowMicroseconds = micros(20)
        let registry = try await harness.open()
        for index in 0..<5 { try await registry.register(service("old\(index)"), peer: peerV4) }
        try await harness.advance(seconds: 25, sweeping: registry)
        for index in 0..<5 { try await registry.register(service("new\(index)"), peer: peerV4) }
        var firstTierOrders = Set<[String]>()
        for _ in 0..<20 {
            let ids = try await registry.get(name: "tunnel-a").map(\.id)
            #expect(Set(ids.prefix(5)) == Set((0..<5).map { "new\($0)" }))
            #expect(Set(ids.suffix(5)) == Set((0..<5).map { "old\($0)" }))
            firstTierOrders.insert(Array(ids.prefix(5)))
        }
        #expect(firstTierOrders.count > 1)

        var shuffleHarness = try Harness()
        defer { shuffleHarness.directory.remove() }
        shuffleHarness.configuration.getOrder = .shuffle
        let shuffled = try await shuffleHarness.open()
        for index in 0..<8 { try await shuffled.register(service("s\(index)"), peer: peerV4) }
        var orders = Set<[String]>()
        for _ in 0..<10 { orders.insert(try await shuffled.get(name: "tunnel-a").map(\.id)) }
        #expect(orders.count > 1)
        #expect(orders.allSatisfy { Set($0).count == 8 })
    }

    // Proves Get order is reproducible with the same seed and clock.
    @Test func getOrderIsDeterministicWithSeed() async throws {
        func orders() async throws -> [[String]] {
            let harness = try Harness(seed: 99)
            defer { harness.directory.remove() }
            let registry = try await harness.open()
            for index in 0..<10 { try await registry.register(service("c\(index)"), peer: peerV4) }
            var result: [[String]] = []
            for _ in 0..<5 { result.append(try await registry.get(name: "tunnel-a").map(\.id)) }
            return result
        }
        #expect(try await orders() == orders())
    }

    // Proves a restart keeps leases and gives them a fresh TTL from the start, even after a
    // downtime longer than a lease.
    @Test func restartKeepsLeasesWithFreshTTL() async throws {
        let harness = try Harness(leaseSeconds: 10)
        defer { harness.directory.remove() }
        let first = try await harness.open()
        try await first.register(service("a"), peer: peerV4)
        try await first.register(service("b", name: "tunnel-b"), peer: peerV4)
        try await first.close()
        harness.clock.advance(seconds: 300)
        let second = try await harness.open()
        let restartedAt = harness.clock.now()
        #expect(try await second.get(name: "tunnel-a").map(\.id) == ["a"])
        #expect(try await second.get(name: "tunnel-b").map(\.id) == ["b"])
        try await harness.advance(seconds: 9, sweeping: second)
        #expect(try await second.get(name: "tunnel-a").count == 1)
        try await harness.advance(seconds: 1, sweeping: second)
        #expect(try await second.get(name: "tunnel-a").isEmpty)
        let expires = try harness.events().filter { $0.kind == .expire }
        #expect(expires.count == 2)
        #expect(expires.allSatisfy { $0.lapsedAtMicroseconds == restartedAt + micros(10) })
    }

    // Proves a sweeper late by more than a lease logs a stall that extends leases instead of
    // expiring everything.
    @Test func stallGuardExtendsLeases() async throws {
        let harness = try Harness(leaseSeconds: 10)
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        try await registry.register(service("a"), peer: peerV4)
        harness.clock.advance(seconds: 60)
        #expect(try await registry.sweep() == 0)
        #expect(try harness.events().last?.kind == .stall)
        #expect(try await registry.get(name: "tunnel-a").count == 1)
        try await harness.advance(seconds: 10, sweeping: registry)
        #expect(try await registry.get(name: "tunnel-a").isEmpty)
        #expect(try harness.events().last?.kind == .expire)
    }

    // Proves a failing log answers unavailable, keeps Get working, and recovers by itself once
    // appends succeed again.
    @Test func unavailableAndRecovery() async throws {
        let harness = try Harness()
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        try await registry.register(service("a"), peer: peerV4)
        harness.store.setFailure("disk full")
        await #expect {
            try await registry.register(service("b"), peer: peerV4)
        } throws: { error in
            guard case .unavailable(let message) = error as? RegistryError else { return false }
            return message.contains("disk full")
        }
        #expect(await registry.isWritable == false)
        #expect(try await registry.get(name: "tunnel-a").map(\.id) == ["a"])
        harness.clock.advance(seconds: 2)
        await #expect(throws: RegistryError.self) { try await registry.register(service("b"), peer: peerV4) }
        harness.store.setFailure(nil)
        await #expect(throws: RegistryError.self) { try await registry.register(service("b"), peer: peerV4) }
        harness.clock.advance(seconds: 2)
        try await registry.register(service("b"), peer: peerV4)
        #expect(await registry.isWritable)
        #expect(try await registry.get(name: "tunnel-a").count == 2)
        harness.store.setFailure("EIO")
        _ = try? await registry.renew(id: "a", name: "tunnel-a", node: "", peer: peerV4)
        harness.store.setFailure(nil)
        harness.clock.advance(seconds: 2)
        await registry.maintain()
        #expect(await registry.isWritable)
    }

    // Proves concurrent mutations all land, in log order, and the projection matches a
    // fold of the log.
    @Test func concurrentMutationsFoldInOrder() async throws {
        let harness = try Harness()
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await registry.register(service("c\(index % 50)", name: "t\(index % 7)"), peer: peerV4)
                    _ = try await registry.renew(id: "c\(index % 50)", name: "t\(index % 7)", node: "", peer: peerV4)
                    if index % 3 == 0 {
                        try await registry.deregister(
                            id: "c\(index % 50)", name: "t\(index % 7)", node: "", peer: peerV4)
                    }
                }
            }
            try await group.waitForAll()
        }
        var replayed = Projection()
        for event in try harness.events() { replayed.apply(event) }
        #expect(await registry.currentProjection == replayed)
    }

    // Proves close writes a snapshot and the next open starts from it plus the tail, equal to
    // a full replay.
    @Test func closeSnapshotsAndReopenUsesIt() async throws {
        let harness = try Harness()
        defer { harness.directory.remove() }
        let first = try await harness.open()
        for index in 0..<20 { try await first.register(service("c\(index)"), peer: peerV4) }
        try await first.close()
        let store = SnapshotStore(directory: harness.configuration.snapshotDirectory)
        #expect(try store.sequences() == [21])
        let second = try await harness.open()
        var replayed = Projection()
        for event in try harness.events() { replayed.apply(event) }
        #expect(await second.currentProjection == replayed)
        #expect(try await second.get(name: "tunnel-a").count == 20)
    }

    // Proves periodic snapshots happen every N records and old ones are pruned.
    @Test func periodicSnapshots() async throws {
        var harness = try Harness()
        defer { harness.directory.remove() }
        harness.configuration.snapshotEveryRecords = 10
        harness.configuration.snapshotsKept = 2
        let registry = try await harness.open()
        for round in 0..<3 {
            for index in 0..<10 { try await registry.register(service("r\(round)-\(index)"), peer: peerV4) }
            harness.clock.advance(seconds: 0.5)
            await registry.maintain()
        }
        let store = SnapshotStore(directory: harness.configuration.snapshotDirectory)
        #expect(try store.sequences() == [21, 31])
    }
}

@Suite struct RegistryLimitTests {
    // Proves the service limit refuses new services (renews and re-registers still pass) and
    // Get returns at most getResultsMax services.
    @Test func limits() async throws {
        var harness = try Harness()
        defer { harness.directory.remove() }
        harness.configuration.servicesMax = 3
        harness.configuration.getResultsMax = 2
        let registry = try await harness.open()
        for index in 0..<3 { try await registry.register(service("c\(index)"), peer: peerV4) }
        await #expect(throws: RegistryError.self) { try await registry.register(service("c3"), peer: peerV4) }
        try await registry.register(service("c0", address: "10.2.2.2:81"), peer: peerV4)
        #expect(try await registry.renew(id: "c1", name: "tunnel-a", node: "", peer: peerV4) == .renewed)
        #expect(try await registry.get(name: "tunnel-a").count == 2)
    }
}
