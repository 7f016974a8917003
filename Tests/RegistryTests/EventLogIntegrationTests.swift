import EventLog
import FileStore
import Foundation
import Testing

@testable import Registry

/// The Registry on the real event log in a temporary data directory.
@Suite struct EventLogIntegrationTests {
    static func configuration(_ directory: TemporaryDirectory, clock: ManualClock) -> RegistryConfiguration {
        var configuration = RegistryConfiguration(dataDirectory: directory.path + "/data")
        configuration.leaseTTLMicroseconds = micros(10)
        configuration.clock = clock.closure
        configuration.randomSeed = 1
        return configuration
    }

    // Proves register/renew/deregister/get, lease expiry with expire records, and revive work
    // on the real log, and the log reads back decoded through RegistryLogReader.
    @Test func mutationsLeasesAndReader() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let configuration = Self.configuration(directory, clock: clock)
        let registry = try await Registry.open(configuration, logger: quietLogger)
        try await registry.register(service("a", address: ":80"), peer: peerV4)
        try await registry.register(service("b", network: "udp", address: "[::]:53"), peer: Peer(ip: "::1", port: 9))
        #expect(try await registry.renew(id: "a", name: "tunnel-a", node: "node-1", peer: peerV4) == .renewed)
        try await registry.deregister(id: "a", name: "tunnel-a", node: "node-1", peer: peerV4)
        #expect(try await registry.get(name: "tunnel-a") == [service("b", network: "udp", address: "[::1]:53")])
        for _ in 0..<10 {
            clock.advance(seconds: 1)
            try await registry.sweep()
        }
        #expect(try await registry.get(name: "tunnel-a").isEmpty)
        #expect(try await registry.renew(id: "b", name: "tunnel-a", node: "node-1", peer: peerV4) == .revived)
        #expect(try await registry.get(name: "tunnel-a").count == 1)

        let reader = try RegistryLogReader(dataDirectory: configuration.dataDirectory)
        var cursor = try reader.events()
        var events: [RegistryEvent] = []
        while let event = try cursor.next() { events.append(event) }
        #expect(events.map(\.kind) == [.start, .register, .register, .renew, .deregister, .expire, .renew])
        #expect(events.map(\.sequence) == Array(1...7))
        #expect(events[1].service.address == "10.0.0.5:80")
        #expect(events[2].peer == "[::1]:9")
        var replayed = Projection()
        events.forEach { replayed.apply($0) }
        #expect(await registry.currentProjection == replayed)
        let atRegister = try reader.projection(atSequence: 3)
        #expect(atRegister.liveServices(at: events[2].timeMicroseconds).map(\.service.id) == ["a", "b"])
        let beforeExpire = try reader.projection(atTime: events[5].timeMicroseconds - 1)
        #expect(beforeExpire.lastSequence == 5)
        #expect(beforeExpire.liveServices(at: events[5].timeMicroseconds - 1).map(\.service.id) == ["b"])
        try await registry.close()
    }

    // Proves a restart on the real log keeps leases with a fresh TTL, starts from the snapshot
    // written at close plus the tail, and equals a full replay.
    @Test func restartKeepsLeases() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let configuration = Self.configuration(directory, clock: clock)
        let first = try await Registry.open(configuration, logger: quietLogger)
        for index in 0..<50 { try await first.register(service("c\(index)", name: "t\(index % 5)"), peer: peerV4) }
        try await first.close()
        clock.advance(seconds: 3_600)
        let second = try await Registry.open(configuration, logger: quietLogger)
        #expect(await second.liveServiceCount == 50)
        #expect(try await second.get(name: "t3").count == 10)
        try await second.register(service("late", name: "t3"), peer: peerV4)
        try await second.close()
        let reader = try RegistryLogReader(dataDirectory: configuration.dataDirectory)
        #expect(try reader.snapshots.sequences().last == 53)
        var full = Projection()
        var cursor = try reader.events()
        while let event = try cursor.next() { full.apply(event) }
        try FileManager.default.removeItem(atPath: configuration.snapshotDirectory)
        let third = try await Registry.open(configuration, logger: quietLogger)
        var expected = full
        var tail = try reader.events(fromSequence: 54)
        expected.apply(try #require(try tail.next()))
        #expect(await third.currentProjection == expected)
        try await third.close()
    }

    // Proves a second registry on the same data directory is refused while the first holds it.
    @Test func secondWriterIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = Self.configuration(directory, clock: ManualClock())
        let first = try await Registry.open(configuration, logger: quietLogger)
        await #expect(throws: EventLogError.self) { _ = try await Registry.open(configuration, logger: quietLogger) }
        try await first.close()
    }

    // Proves many concurrent durable mutations on the real log fold in sequence order.
    @Test func concurrentAppends() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = Self.configuration(directory, clock: ManualClock())
        let registry = try await Registry.open(configuration, logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                group.addTask {
                    try await registry.register(service("c\(index % 100)", name: "t\(index % 9)"), peer: peerV4)
                    _ = try await registry.renew(id: "c\(index % 100)", name: "t\(index % 9)", node: "", peer: peerV4)
                }
            }
            try await group.waitForAll()
        }
        let projection = await registry.currentProjection
        #expect(projection.lastSequence == 1_001)
        try await registry.close()
        let reader = try RegistryLogReader(dataDirectory: configuration.dataDirectory)
        #expect(try reader.projection(atSequence: 1_001) == projection)
    }
}
