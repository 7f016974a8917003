import FileStore
import Testing

@testable import Registry

/// A snapshot load that defers its lapsed services (`Projection(snapshotBytes:deferringLapsed:)`)
/// must answer, fold, prune, encode and refuse exactly as the eager load.
@Suite struct DeferredLapsedTests {
    // Proves a deferred load holds the lapsed services undecoded and folds a random tail with the
    // same effect for every record as an eager load, ending in the same bytes and the same value.
    @Test(arguments: 1...8)
    func deferredLoadFoldsAsEager(seed: Int) throws {
        let events = withLapsedServices(RandomEvents.generate(count: 1_000, seed: UInt64(seed) &* 7))
        var head = Projection()
        events.prefix(1_080).forEach { head.apply($0) }
        let bytes = head.snapshotBytes()
        var eager = try Projection(snapshotBytes: bytes)
        var deferred = try Projection(snapshotBytes: bytes, deferringLapsed: true)
        #expect(head.lapsedEntryCount > 10)
        #expect(eager.deferredLapsedEntryCount == 0)
        #expect(deferred.deferredLapsedEntryCount == head.lapsedEntryCount)
        #expect(deferred.lapsedEntryCount == head.lapsedEntryCount)
        for event in events.dropFirst(1_080) {
            #expect(deferred.apply(event) == eager.apply(event), "record \(event.sequence)")
            #expect(deferred.lapsedEntryCount == eager.lapsedEntryCount, "record \(event.sequence)")
        }
        #expect(deferred.deferredLapsedEntryCount > 0, "the tail looked up every deferred service")
        #expect(deferred.deferredLapsedEntryCount < head.lapsedEntryCount, "the tail looked up none")
        #expect(deferred.snapshotBytes() == eager.snapshotBytes())
        #expect(deferred == eager)
        #expect(deferred.lapsedServices == eager.lapsedServices)
    }

    // Proves every way of reading all lapsed services at once (listing, lookup by key, encoding,
    // equality, a snapshot comparison) sees the deferred ones as the eager load has them.
    @Test func readersSeeDeferredServices() throws {
        var head = Projection()
        withLapsedServices(RandomEvents.generate(count: 1_200, seed: 11)).forEach { head.apply($0) }
        let bytes = head.snapshotBytes()
        let eager = try Projection(snapshotBytes: bytes)
        let deferred = try Projection(snapshotBytes: bytes, deferringLapsed: true)
        #expect(deferred.deferredLapsedEntryCount == eager.lapsedEntryCount)
        #expect(deferred.snapshotBytes() == bytes)
        #expect(deferred.encoded(lapsedEntries: false) == eager.encoded(lapsedEntries: false))
        #expect(deferred.lapsedServices == eager.lapsedServices)
        for service in eager.lapsedServices {
            let key = service.service
            #expect(deferred.lapsedEntry(name: key.name, id: key.id) == service)
            #expect(deferred.lapsedEntry(name: key.name, id: key.id + "x") == nil)
        }
        #expect(deferred == eager && eager == deferred)
        #expect(deferred.deferredLapsedEntryCount == eager.lapsedEntryCount, "a read-only look decoded services")
        var compared = deferred
        var comparer = SnapshotComparer()
        #expect(comparer.matches(bytes, &compared))
        #expect(compared.deferredLapsedEntryCount == 0)
        #expect(compared.lapsedServices == eager.lapsedServices)
    }

    // Proves a renew of a deferred service revives it from its snapshot entry (network, address,
    // registration kept), leaving the others deferred, as the eager load does.
    @Test func renewRevivesDeferredService() throws {
        let bytes = lapsedSnapshot([("a", "1", 10, hour(5)), ("a", "2", 20, hour(6)), ("b", "1", 30, hour(7))])
        var deferred = try Projection(snapshotBytes: bytes, deferringLapsed: true)
        var eager = try Projection(snapshotBytes: bytes)
        let renew = event(4, at: seconds(hour(8)), .renew, id: "2", name: "a", node: "n9")
        #expect(deferred.apply(renew) == .revived)
        #expect(eager.apply(renew) == .revived)
        let revived = try #require(deferred.liveEntry(name: "a", id: "2"))
        #expect(revived.service == Service(id: "2", name: "a", node: "n9", network: "net-2", address: "addr-a-2"))
        #expect(revived.registeredAtMicroseconds == 20)
        #expect(revived == eager.liveEntry(name: "a", id: "2"))
        #expect(deferred.lapsedEntry(name: "a", id: "2") == nil)
        #expect(deferred.lapsedEntryCount == 2)
        #expect(deferred.deferredLapsedEntryCount == 2)
        #expect(deferred.snapshotBytes() == eager.snapshotBytes())
    }

    // Proves a register and a deregister forget a deferred lapsed service (a later renew of it is
    // not found), as they forget a decoded one.
    @Test func registerAndDeregisterForgetDeferredServices() throws {
        let bytes = lapsedSnapshot([("a", "1", 10, hour(5)), ("a", "2", 20, hour(6)), ("b", "1", 30, hour(7))])
        var deferred = try Projection(snapshotBytes: bytes, deferringLapsed: true)
        var eager = try Projection(snapshotBytes: bytes)
        let records = [
            event(4, at: seconds(hour(8)), .register, id: "1", name: "a", network: "tcp", address: "x:1"),
            event(5, at: seconds(hour(8)) + 1, .deregister, id: "1", name: "b"),
            event(6, at: seconds(hour(8)) + 2, .renew, id: "1", name: "b"),
            event(7, at: seconds(hour(8)) + 3, .deregister, id: "1", name: "a"),
            event(8, at: seconds(hour(8)) + 4, .renew, id: "1", name: "a"),
        ]
        let effects = records.map { deferred.apply($0) }
        #expect(effects == [.registered(replaced: false), .deregistered, .notFound, .deregistered, .notFound])
        #expect(records.map { eager.apply($0) } == effects)
        #expect(deferred.lapsedEntry(name: "b", id: "1") == nil)
        #expect(deferred.lapsedEntry(name: "a", id: "1") == nil)
        #expect(deferred.lapsedEntryCount == 1)
        #expect(deferred.snapshotBytes() == eager.snapshotBytes())
    }

    // Proves an expire of a lease whose key the snapshot also holds as lapsed replaces that entry
    // (no key ends up twice), as with the eager load.
    @Test func expireReplacesDeferredEntryOfSameKey() throws {
        var writer = snapshotHeader(lastSequence: 3, time: hour(5))
        writer.writeVarint(1)
        writer.writeService(Service(id: "1", name: "a", node: "n", network: "tcp", address: "live:1"))
        for value in [hour(4), hour(4), hour(4) + 45_000_000] { writer.writeSignedVarint(value) }
        writer.writeVarint(1)
        writer.writeVarint(2)
        appendLapsed(&writer, [("a", "1", 10, hour(3)), ("a", "2", 20, hour(3))])
        var deferred = try Projection(snapshotBytes: writer.bytes, deferringLapsed: true)
        var eager = try Projection(snapshotBytes: writer.bytes)
        let expire = event(4, at: seconds(hour(5)), .expire, id: "1", name: "a", lapsedAt: hour(4) + 45_000_000)
        #expect(deferred.apply(expire) == .expired)
        #expect(eager.apply(expire) == .expired)
        #expect(deferred.lapsedEntryCount == 2)
        #expect(deferred.lapsedEntry(name: "a", id: "1")?.service.address == "live:1")
        #expect(deferred.snapshotBytes() == eager.snapshotBytes())
    }

    // Proves a prune forgets the deferred services that lapsed before its horizon and keeps the
    // rest, as with the eager load, for instants whose varints take one to ten bytes.
    @Test func pruneDropsDeferredServicesPastHorizon() throws {
        let instants: [Int64] = [
            .min, -1, 0, 1, 63, 64, 8_191, hour(1), hour(30), 1_800_000_000_000_000, 1 << 55 - 1, 1 << 55,
            1 << 62, .max - hour(48), .max,
        ]
        let entries = instants.enumerated().map { ("t", "c\($0.offset)", Int64($0.offset), $0.element) }
        let bytes = lapsedSnapshot(entries)
        var deferred = try Projection(snapshotBytes: bytes, deferringLapsed: true)
        var eager = try Projection(snapshotBytes: bytes)
        #expect(deferred.lapsedAtLowerBound == eager.lapsedAtLowerBound)
        var sequence: UInt64 = 3
        for time in [hour(1), hour(25), hour(60), 1_800_000_000_000_000 + hour(24), 1 << 55 + hour(24)] {
            sequence += 1
            let start = RegistryEvent(
                sequence: sequence,
                timeMicroseconds: time,
                kind: .start,
                service: Service(id: "", name: "", node: "", network: "", address: ""),
                peer: ""
            )
            #expect(deferred.apply(start) == eager.apply(start))
            #expect(deferred.lapsedEntryCount == eager.lapsedEntryCount, "start at \(time)")
            #expect(deferred.lapsedAtLowerBound == eager.lapsedAtLowerBound, "start at \(time)")
            #expect(deferred.deferredLapsedEntryCount == eager.lapsedEntryCount, "start at \(time)")
        }
        #expect(eager.lapsedEntryCount == instants.filter { $0 >= 1 << 55 }.count)
        #expect(deferred.snapshotBytes() == eager.snapshotBytes())
        for (_, id, _, _) in entries {
            sequence += 1
            let renew = event(sequence, at: seconds(1 << 55 + hour(24)), .renew, id: id, name: "t")
            #expect(deferred.apply(renew) == eager.apply(renew), "renew of \(id)")
        }
        #expect(deferred == eager)
    }

    // Proves a deferred load refuses every damaged snapshot the eager load refuses, with the same
    // offset and reason, and loads the same projection from every other: each lapsed-section byte
    // replaced by values that break a length, a varint, ASCII or UTF-8, the bytes cut at every
    // length, a key repeated, and a byte appended.
    @Test func damagedSnapshotsAreRefusedAlike() throws {
        var writer = snapshotHeader(lastSequence: 3, time: hour(5))
        writer.writeVarint(0)
        let entries: [(String, String, Int64, Int64)] = [
            ("a", "1", 10, hour(3)), ("a", "2", -20, 1_800_000_000_000_000), ("b", "1", 30, .max),
        ]
        writer.writeVarint(UInt64(entries.count))
        let sectionStart = writer.bytes.count - 1
        appendLapsed(&writer, entries)
        let bytes = writer.bytes
        var variants: [[UInt8]] = []
        for offset in sectionStart..<bytes.count {
            for value: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xC3, 0xE9, 0xFF, bytes[offset] &+ 1, bytes[offset] &- 1] {
                var damaged = bytes
                damaged[offset] = value
                variants.append(damaged)
            }
        }
        for length in 0..<bytes.count { variants.append(Array(bytes.prefix(length))) }
        variants.append(bytes + [0])
        var repeated = snapshotHeader(lastSequence: 3, time: hour(5))
        repeated.writeVarint(0)
        repeated.writeVarint(3)
        appendLapsed(&repeated, [("a", "1", 1, 2), ("b", "1", 1, 2), ("a", "1", 1, 2)])
        variants.append(repeated.bytes)
        var refused = 0
        for damaged in variants {
            let eager = Result { () throws(SnapshotDecodingError) in try Projection(snapshotBytes: damaged) }
            let deferred = Result { () throws(SnapshotDecodingError) in
                try Projection(snapshotBytes: damaged, deferringLapsed: true)
            }
            switch (eager, deferred) {
            case (.failure(let eagerError), .failure(let deferredError)):
                #expect(eagerError == deferredError)
                refused += 1
            case (.success(let eagerProjection), .success(let deferredProjection)):
                #expect(eagerProjection.snapshotBytes() == deferredProjection.snapshotBytes())
                #expect(eagerProjection == deferredProjection)
            default:
                Issue.record("eager \(eager), deferred \(deferred) for \(damaged)")
            }
        }
        #expect(refused > variants.count / 2)
    }

    // Proves the snapshot store hands out a deferred load on request, equal to the eager one.
    @Test func snapshotStoreLoadsDeferred() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var projection = Projection()
        withLapsedServices(RandomEvents.generate(count: 800, seed: 3)).forEach { projection.apply($0) }
        let store = SnapshotStore(directory: directory.path)
        try store.write(projection)
        let loaded = try store.load(sequence: projection.lastSequence, deferringLapsed: true)
        #expect(loaded.deferredLapsedEntryCount == projection.lapsedEntryCount)
        #expect(try store.load(sequence: projection.lastSequence).deferredLapsedEntryCount == 0)
        #expect(loaded == projection)
    }
}

/// `events` after a register and an expire of each of their keys (names `tunnel-0...5`, ids
/// `c0...c39`), so that a fold of them holds many lapsed services, some of which they revive.
private func withLapsedServices(_ events: [RegistryEvent]) -> [RegistryEvent] {
    let keys = (0..<6).flatMap { name in (0..<40).map { ("tunnel-\(name)", "c\($0)") } }
    var prefix: [RegistryEvent] = []
    for (name, id) in keys {
        prefix.append(
            event(UInt64(prefix.count + 1), at: 1, .register, id: id, name: name, network: "tcp", address: "a:\(id)")
        )
    }
    for (name, id) in keys {
        prefix.append(event(UInt64(prefix.count + 1), at: 50, .expire, id: id, name: name, lapsedAt: 46_000_000))
    }
    return prefix
        + events.map {
            var shifted = $0
            shifted.sequence += UInt64(prefix.count)
            return shifted
        }
}

/// `hours` hours in microseconds.
private func hour(_ hours: Int64) -> Int64 { hours * 3_600_000_000 }

/// Microseconds as the seconds `event(_:at:...)` takes.
private func seconds(_ microseconds: Int64) -> Double { Double(microseconds) / 1_000_000 }

/// Projection bytes with no lease and the lapsed services (name, id, registeredAt, lapsedAt) in
/// the order given.
private func lapsedSnapshot(_ entries: [(String, String, Int64, Int64)]) -> [UInt8] {
    var writer = snapshotHeader(lastSequence: 3, time: hour(5))
    writer.writeVarint(0)
    writer.writeVarint(UInt64(entries.count))
    appendLapsed(&writer, entries)
    return writer.bytes
}

private func appendLapsed(_ writer: inout ByteWriter, _ entries: [(String, String, Int64, Int64)]) {
    for (name, id, registeredAt, lapsedAt) in entries {
        writer.writeService(
            Service(id: id, name: name, node: "n", network: "net-\(id)", address: "addr-\(name)-\(id)")
        )
        writer.writeSignedVarint(registeredAt)
        writer.writeSignedVarint(lapsedAt)
    }
}

private func snapshotHeader(lastSequence: UInt64, time: Int64) -> ByteWriter {
    var writer = ByteWriter()
    writer.writeByte(2)
    writer.writeVarint(lastSequence)
    writer.writeSignedVarint(time)
    writer.writeSignedVarint(45_000_000)
    return writer
}
