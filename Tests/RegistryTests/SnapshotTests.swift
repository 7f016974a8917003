import FileStore
import Foundation
import Testing

@testable import Registry

@Suite struct SnapshotTests {
    // Proves a written snapshot loads back equal, with its header readable on its own.
    @Test func roundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var projection = Projection()
        RandomEvents.generate(count: 500, seed: 5).forEach { projection.apply($0) }
        let store = SnapshotStore(directory: directory.path + "/snapshots")
        try store.write(projection)
        #expect(try store.sequences() == [500])
        #expect(try store.load(sequence: 500) == projection)
        #expect(try store.info(sequence: 500).lastTimeMicroseconds == projection.lastTimeMicroseconds)
    }

    // Proves snapshot + tail equals a full replay, for random event sequences cut at random
    // points (property test, seeded).
    @Test(arguments: 1...12)
    func snapshotPlusTailEqualsFullReplay(seed: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let events = RandomEvents.generate(count: 400 + seed * 37, seed: UInt64(seed))
        var full = Projection()
        events.forEach { full.apply($0) }
        var random = RegistryRandom(seed: UInt64(seed) &* 31)
        let cut = Int(random.next() % UInt64(events.count))
        var head = Projection()
        events.prefix(cut).forEach { head.apply($0) }
        let store = SnapshotStore(directory: directory.path)
        try store.write(head)
        var restored = try store.load(sequence: head.lastSequence)
        #expect(restored == head)
        events.dropFirst(cut).forEach { restored.apply($0) }
        #expect(restored == full)
        for probe in stride(from: events[0].timeMicroseconds, through: events.last!.timeMicroseconds, by: 7_000_000) {
            #expect(restored.liveServices(at: probe) == full.liveServices(at: probe))
        }
    }

    // Proves the registry's start from snapshot + tail equals a full replay on random logs.
    @Test(arguments: [3, 8])
    func registryStartFromSnapshotEqualsFullReplay(seed: Int) async throws {
        let harness = try Harness()
        defer { harness.directory.remove() }
        let events = RandomEvents.generate(count: 600, seed: UInt64(seed))
        _ = try await harness.store.append(events.map(EventCodec.encode))
        var head = Projection()
        for record in harness.store.records.prefix(250) { head.apply(try EventCodec.decode(record)) }
        try SnapshotStore(directory: harness.configuration.snapshotDirectory).write(head)
        let fromSnapshot = try await harness.open()
        let snapshotsDirectory = harness.configuration.snapshotDirectory
        try FileManager.default.removeItem(atPath: snapshotsDirectory)
        var full = Projection()
        for event in try harness.events() { full.apply(event) }
        #expect(await fromSnapshot.currentProjection == full)
    }

    // Proves a damaged newest snapshot falls back to an older one, and with none left to a
    // full replay; each damage kind is detected.
    @Test(arguments: ["flip", "truncate", "header", "empty"])
    func badSnapshotFallsBack(damage: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let events = RandomEvents.generate(count: 300, seed: 4)
        let store = SnapshotStore(directory: directory.path)
        var older = Projection()
        events.prefix(100).forEach { older.apply($0) }
        var newer = older
        events.dropFirst(100).prefix(100).forEach { newer.apply($0) }
        try store.write(older)
        try store.write(newer)
        let path = store.path(for: newer.lastSequence)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        switch damage {
        case "flip": bytes[bytes.count - 3] ^= 0x40
        case "truncate": bytes.removeLast(5)
        case "header": bytes[9] ^= 1
        default: bytes = []
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotError.self) { try store.load(sequence: newer.lastSequence) }
        #expect(store.loadNewestValid(logger: quietLogger) == older)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: store.path(for: older.lastSequence)))
        #expect(store.loadNewestValid(logger: quietLogger) == nil)
    }

    // Proves a snapshot newer than the log (the log lost its tail) is not used.
    @Test func snapshotAheadOfLogIsSkipped() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path)
        var projection = Projection()
        RandomEvents.generate(count: 50, seed: 2).forEach { projection.apply($0) }
        try store.write(projection)
        #expect(store.loadNewestValid(atOrBefore: 49, logger: quietLogger) == nil)
        #expect(store.loadNewestValid(atOrBefore: 50, logger: quietLogger) == projection)
    }

    // Proves only the newest `keep` snapshots remain.
    @Test func pruneKeepsNewest() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SnapshotStore(directory: directory.path)
        var projection = Projection()
        for event in RandomEvents.generate(count: 50, seed: 2) {
            projection.apply(event)
            if event.sequence % 10 == 0 { try store.write(projection, keep: 3) }
        }
        #expect(try store.sequences() == [30, 40, 50])
    }
}
