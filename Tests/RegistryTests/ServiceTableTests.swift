import Testing

@testable import Registry

@Suite struct ServiceTableTests {
    // Proves the byte comparison keys and strings go through (words, then the overlapping tail
    // word or half words) tells equal from unequal at every length to 40 and every differing byte.
    @Test func sameBytesAtEveryLengthAndPosition() {
        for count in 0...40 {
            let left = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(left.withUnsafeBytes { a in left.withUnsafeBytes { b in sameBytes(a, b) } })
            #expect(!left.withUnsafeBytes { a in (left + [0]).withUnsafeBytes { b in sameBytes(a, b) } })
            for position in 0..<count {
                var right = left
                right[position] ^= 0x20
                #expect(!left.withUnsafeBytes { a in right.withUnsafeBytes { b in sameBytes(a, b) } })
            }
        }
    }

    // Proves the open-addressing table agrees with a dictionary through heavy churn: inserts,
    // removals that shift probe runs back (also across the end of the slot array), reused indices.
    @Test func agreesWithADictionaryUnderChurn() {
        var table = ServiceTable<Int>()
        var model: [String: (index: Int, value: Int)] = [:]
        var random = SplitMix64(seed: 42)
        for step in 0..<20_000 {
            let key = "k\(random.next() % 500)"
            let name = "n\(key.count % 3)"
            if let found = model[key] {
                #expect(table.find(name: name, id: key) == found.index)
                if random.next() % 2 == 0 {
                    #expect(table.remove(index: found.index) == found.value)
                    model[key] = nil
                } else {
                    table[found.index] = step
                    model[key] = (found.index, step)
                }
            } else {
                #expect(table.find(name: name, id: key) == nil)
                model[key] = (table.insert(name: name, id: key, step), step)
            }
        }
        #expect(table.count == model.count)
        for (key, entry) in model {
            #expect(table.find(name: "n\(key.count % 3)", id: key) == entry.index)
            #expect(table[entry.index] == entry.value)
        }
        #expect(Set(table.indices) == Set(model.values.map(\.index)))
    }

    // Proves the table grows a step at a time: the insert that outgrows the slots leaves most
    // entries to later inserts (findable meanwhile through the old slots), and lookups, removals
    // and inserts during a growth agree with a dictionary, across chunks of the entry storage.
    @Test func growsAStepAtATime() {
        var table = ServiceTable<Int>()
        table.incrementalGrowthMinimum = 0
        var model: [String: (index: Int, value: Int)] = [:]
        var random = SplitMix64(seed: 7)
        var growingRun = 0
        var longestGrowingRun = 0
        for step in 0..<40_000 {
            let key = "k\(random.next() % 20_000)"
            if let found = model[key] {
                #expect(table.find(name: "n", id: key) == found.index)
                if random.next() % 4 == 0 {
                    #expect(table.remove(index: found.index) == found.value)
                    model[key] = nil
                }
            } else {
                #expect(table.find(name: "n", id: key) == nil)
                model[key] = (table.insert(name: "n", id: key, step), step)
                growingRun = table.isGrowing ? growingRun + 1 : 0
                longestGrowingRun = max(longestGrowingRun, growingRun)
            }
        }
        // Growth from 16,384 slots starts at 12,288 entries: a one-step rehash would leave no
        // insert growing; moving 8 entries an insert takes over 1,500 inserts.
        #expect(longestGrowingRun >= 1_000, "longest run of inserts during a growth: \(longestGrowingRun)")
        #expect(table.capacity > ChunkedArray<Int>.chunkSize)
        #expect(table.count == model.count)
        for (key, entry) in model {
            #expect(table.find(name: "n", id: key) == entry.index)
            #expect(table[entry.index] == entry.value)
        }
        #expect(Set(table.indices) == Set(model.values.map(\.index)))
    }

    // Proves the table's sorted order is `String` order by name then id whatever the keys: names
    // sharing their first 16 bytes, ids sharing their first 8, keys that are prefixes of others,
    // and keys that are not ASCII (ordered canonically, as strings).
    @Test func sortsInStringOrder() {
        let names = [
            "tunnel-0000000000001", "tunnel-0000000000002", "tunnel-000000000000", "tunnel-00000000", "tunnel-1",
            "tunnel-10", "a", "ab", "a~", "caf\u{E9}", "cafe\u{301}x", "cafe", "\u{212A}", "Kz", "zz", "",
            "b\u{E9}b", "bz", "\u{FF}",
        ]
        let ids = ["c-00000001", "c-00000002", "c-0000000", "c-000000010", "c", "", "\u{E9}", "e\u{301}1", "x"]
        var table = ServiceTable<Int>()
        var keys: [(name: String, id: String)] = []
        for name in names {
            for id in ids where table.find(name: name, id: id) == nil {
                table.insert(name: name, id: id, keys.count)
                keys.append((name, id))
            }
        }
        // Some entries removed, so indices are not insertion order once reused.
        for index in stride(from: 0, to: keys.count, by: 7) { table.remove(index: index) }
        keys = stride(from: 0, to: keys.count, by: 1).filter { $0 % 7 != 0 }.map { keys[$0] }
        for id in ["z", "c-0"] {
            table.insert(name: "tunnel-1", id: id, keys.count)
            keys.append(("tunnel-1", id))
        }
        let expected = keys.sorted { $0.name != $1.name ? $0.name < $1.name : $0.id < $1.id }
            .map { Array($0.name.utf8) + [0] + Array($0.id.utf8) }
        let sorted = table.sortedIndices.map { Array(table.name(at: $0).utf8) + [0] + Array(table.id(at: $0).utf8) }
        #expect(sorted == expected)
    }

    // Proves the snapshot encoding is the documented byte form (docs/FORMAT.md) written field by
    // field, with leases and lapsed services by name then id, also when long strings outgrow the
    // encoder's first buffer and with negative instants.
    @Test func encodingIsTheDocumentedByteForm() {
        var projection = Projection()
        let long = String(repeating: "x", count: 250)
        for index in 0..<300 {
            let service = Service(
                id: "c\(index % 7)", name: index % 3 == 0 ? "t\(index)" + long : "t\(index)",
                node: "node-\(index % 5)", network: "tcp", address: "10.0.0.\(index % 9):80" + long)
            projection.setLive(
                LiveService(
                    service: service, registeredAtMicroseconds: -Int64(index), lastRenewAtMicroseconds: Int64(index),
                    leaseExpiresAtMicroseconds: 1 << 40, lastRenewSequence: UInt64(index) << 30))
            if index % 2 == 0 {
                var lapsed = service
                lapsed.name = "lapsed-\(index)" + (index % 4 == 0 ? long : "")
                projection.setLapsed(
                    LapsedService(service: lapsed, registeredAtMicroseconds: 5, lapsedAtMicroseconds: -Int64(index)))
            }
        }
        var writer = snapshotHeader(
            lastSequence: projection.lastSequence, time: projection.lastTimeMicroseconds,
            leaseTTL: projection.leaseTTLMicroseconds)
        let live = projection.liveServices(at: .min)
        writer.writeVarint(UInt64(live.count))
        for lease in live {
            writer.writeService(lease.service)
            writer.writeSignedVarint(lease.registeredAtMicroseconds)
            writer.writeSignedVarint(lease.lastRenewAtMicroseconds)
            writer.writeSignedVarint(lease.leaseExpiresAtMicroseconds)
            writer.writeVarint(lease.lastRenewSequence)
        }
        writer.writeVarint(UInt64(projection.lapsedServices.count))
        for entry in projection.lapsedServices {
            writer.writeService(entry.service)
            writer.writeSignedVarint(entry.registeredAtMicroseconds)
            writer.writeSignedVarint(entry.lapsedAtMicroseconds)
        }
        #expect(live.count == 300 && projection.lapsedEntryCount == 150)
        #expect(projection.snapshotBytes() == writer.bytes)
    }

    // Proves (name, id) keys do not run together: ("ab", "c") and ("a", "bc") are different services.
    @Test func keysDoNotRunTogether() {
        var table = ServiceTable<Int>()
        table.insert(name: "ab", id: "c", 1)
        table.insert(name: "a", id: "bc", 2)
        table.insert(name: "", id: "abc", 3)
        #expect(table.find(name: "ab", id: "c").map { table[$0] } == 1)
        #expect(table.find(name: "a", id: "bc").map { table[$0] } == 2)
        #expect(table.find(name: "", id: "abc").map { table[$0] } == 3)
        #expect(table.find(name: "abc", id: "") == nil)
    }

    // Proves keys stay Swift strings: canonically equivalent spellings ("é" precomposed or not, the
    // Kelvin sign and "K") name the same service, as they did when the projection used dictionaries.
    @Test func canonicallyEquivalentKeysMeet() throws {
        var projection = Projection()
        let service = Service(
            id: "\u{212A}1",
            name: "caf\u{E9}",
            node: "n\u{E9}",
            network: "tcp",
            address: "1.2.3.4:80"
        )
        projection.apply(
            RegistryEvent(sequence: 1, timeMicroseconds: 1, kind: .register, service: service, peer: "")
        )
        let key = Service(id: "K1", name: "cafe\u{301}", node: "ne\u{301}", network: "", address: "")
        let payload = EventCodec.encode(
            RegistryEvent(sequence: 2, timeMicroseconds: 2, kind: .renew, service: key, peer: "")
        )
        let effect = try payload.withUnsafeBytes { bytes in
            projection.apply(try EventCodec.view(bytes, sequence: 2), sequence: 2, time: 2)
        }
        #expect(effect == .renewed)
        #expect(projection.liveEntryCount == 1)
        #expect(projection.liveEntry(name: "cafe\u{301}", id: "K1")?.service.node == "n\u{E9}")
        #expect(projection.liveServices(named: "caf\u{E9}", at: 3).count == 1)
        #expect(
            projection.apply(
                RegistryEvent(sequence: 3, timeMicroseconds: 3, kind: .deregister, service: key, peer: "")
            )
                == .deregistered
        )
    }

    // Proves a snapshot load still refuses a repeated lease, whether the repeat is adjacent, out of
    // order, or a canonically equivalent spelling, while sorted ASCII keys load as they were, and
    // each name lists all its leases (also a name seen again after the keys stop rising).
    @Test(arguments: [
        (["a/1", "a/2", "b/1"], true), (["a/1", "a/1"], false), (["a/1", "b/1", "a/1"], false),
        (["caf\u{E9}/1", "cafe\u{301}/1"], false), (["b/1", "a/1"], true), (["a/1", "b/1", "b/2", "a/2"], true),
    ])
    func snapshotLoadRefusesRepeatedLeases(keys: [String], loads: Bool) throws {
        var writer = snapshotHeader(lastSequence: UInt64(keys.count), time: 1)
        writer.writeVarint(UInt64(keys.count))
        for key in keys {
            let parts = key.split(separator: "/").map(String.init)
            writer.writeService(Service(id: parts[1], name: parts[0], node: "n", network: "tcp", address: "a:1"))
            for value in [1, 1, 46_000_000] as [Int64] { writer.writeSignedVarint(value) }
            writer.writeVarint(1)
        }
        writer.writeVarint(0)
        let loaded = try? Projection(snapshotBytes: writer.bytes)
        #expect((loaded != nil) == loads)
        if let loaded {
            #expect(loaded.liveEntryCount == keys.count)
            for key in keys {
                let parts = key.split(separator: "/").map(String.init)
                #expect(loaded.liveEntry(name: parts[0], id: parts[1]) != nil)
                let sameName = keys.filter { $0.hasPrefix(parts[0] + "/") }.count
                #expect(loaded.liveServices(named: parts[0], at: 2).count == sameName)
            }
            #expect(try Projection(snapshotBytes: loaded.snapshotBytes()) == loaded)
        }
    }

    // Proves a snapshot load refuses a repeated lapsed service as it does a lease (adjacent, out of
    // order, or a canonically equivalent spelling), while sorted ASCII keys and keys out of order
    // load as they were, each findable, with the prune bound at the oldest lapse.
    @Test(arguments: [
        (["a/1", "a/2", "b/1"], true), (["a/1", "a/1"], false), (["a/1", "b/1", "a/1"], false),
        (["caf\u{E9}/1", "cafe\u{301}/1"], false), (["b/1", "a/1"], true), (["b/1", "caf\u{E9}/1", "a/1"], true),
    ])
    func snapshotLoadRefusesRepeatedLapsedServices(keys: [String], loads: Bool) throws {
        var writer = snapshotHeader(lastSequence: UInt64(keys.count), time: 100)
        writer.writeVarint(0)
        writer.writeVarint(UInt64(keys.count))
        for (offset, key) in keys.enumerated() {
            let parts = key.split(separator: "/").map(String.init)
            writer.writeService(Service(id: parts[1], name: parts[0], node: "n", network: "tcp", address: "a:1"))
            writer.writeSignedVarint(1)
            writer.writeSignedVarint(50 - Int64(offset))
        }
        let loaded = try? Projection(snapshotBytes: writer.bytes)
        #expect((loaded != nil) == loads)
        if let loaded {
            #expect(loaded.lapsedEntryCount == keys.count)
            for (offset, key) in keys.enumerated() {
                let parts = key.split(separator: "/").map(String.init)
                #expect(loaded.lapsedEntry(name: parts[0], id: parts[1])?.lapsedAtMicroseconds == 50 - Int64(offset))
            }
            #expect(loaded.lapsedAtLowerBound == 50 - Int64(keys.count - 1))
            #expect(try Projection(snapshotBytes: loaded.snapshotBytes()) == loaded)
        }
    }

    // Proves a snapshot load rejects a string that is not UTF-8 in a lease or a lapsed service,
    // naming the field, though fields are checked for ASCII in one pass per entry.
    @Test(arguments: [(0, "id"), (1, "node"), (2, "address")])
    func snapshotLoadRejectsInvalidUTF8(entry: Int, field: String) throws {
        let marker = "#BAD#"
        var services = (0..<3).map { Service(id: "c\($0)", name: "t", node: "n", network: "tcp", address: "a:1") }
        switch field {
        case "id": services[entry].id = marker
        case "node": services[entry].node = marker
        default: services[entry].address = marker
        }
        var writer = snapshotHeader(lastSequence: 9, time: 100)
        writer.writeVarint(1)
        writer.writeService(services[0])
        for value in [1, 1, 46_000_000] as [Int64] { writer.writeSignedVarint(value) }
        writer.writeVarint(1)
        writer.writeVarint(2)
        for service in services[1...] {
            writer.writeService(service)
            writer.writeSignedVarint(1)
            writer.writeSignedVarint(2)
        }
        var bytes = writer.bytes
        #expect((try? Projection(snapshotBytes: bytes)) != nil)
        let pattern = Array(marker.utf8)
        let start = try #require(
            (0...(bytes.count - pattern.count)).first { Array(bytes[$0..<$0 + pattern.count]) == pattern })
        bytes[start + 2] = 0xFF
        let error = #expect(throws: SnapshotDecodingError.self) { try Projection(snapshotBytes: bytes) }
        #expect(error?.reason == "\(field) is not valid UTF-8")
    }

    // Proves folding payloads in place (`apply(view:)`) and folding decoded events give the same
    // view, through every kind of record: registers, renews that change node and revive, expires
    // ignored and applied, deregisters, starts that change the TTL, stalls; and that the snapshot
    // of that view loads back equal, with Get's per-name answer matching the full listing.
    @Test func viewAndEventFoldAgree() throws {
        var byEvent = Projection()
        var byView = Projection()
        var random = SplitMix64(seed: 7)
        var time: Int64 = 1_000_000
        for sequence in UInt64(1)...6_000 {
            time += Int64(random.next() % 3_000_000)
            let event = randomEvent(sequence, time: time, &random)
            let payload = EventCodec.encode(event)
            let effect = byEvent.apply(event)
            let viewed = try payload.withUnsafeBytes { bytes in
                byView.apply(try EventCodec.view(bytes, sequence: sequence), sequence: sequence, time: time)
            }
            #expect(effect == viewed, "record \(sequence)")
        }
        #expect(byEvent == byView)
        #expect(byEvent.liveEntryCount > 0 && byEvent.lapsedEntryCount > 0)
        let loaded = try Projection(snapshotBytes: byView.snapshotBytes())
        #expect(loaded == byEvent)
        #expect(loaded.snapshotBytes() == byEvent.snapshotBytes())
        let all = byEvent.liveServices(at: time)
        for name in Set(all.map(\.service.name)) {
            #expect(byEvent.liveServices(named: name, at: time) == all.filter { $0.service.name == name })
            #expect(loaded.liveServices(named: name, at: time) == all.filter { $0.service.name == name })
        }
        #expect(byEvent.lapsedLeases(at: time) == byEvent.lapsedLeasesByScan(at: time))
    }

    func randomEvent(_ sequence: UInt64, time: Int64, _ random: inout SplitMix64) -> RegistryEvent {
        let id = "c\(random.next() % 60)"
        let name = "t\(random.next() % 8)"
        let node = "node-\(random.next() % 5)"
        let service = Service(
            id: id,
            name: name,
            node: node,
            network: random.next() % 2 == 0 ? "tcp" : "udp",
            address: "10.0.0.\(random.next() % 4):80"
        )
        let key = Service(id: id, name: name, node: random.next() % 3 == 0 ? "" : node, network: "", address: "")
        let empty = Service(id: "", name: "", node: "", network: "", address: "")
        switch random.next() % 20 {
        case 0..<5:
            return RegistryEvent(
                sequence: sequence,
                timeMicroseconds: time,
                kind: .register,
                service: service,
                peer: "p"
            )
        case 5..<13:
            return RegistryEvent(sequence: sequence, timeMicroseconds: time, kind: .renew, service: key, peer: "p")
        case 13..<15:
            return RegistryEvent(sequence: sequence, timeMicroseconds: time, kind: .deregister, service: key, peer: "p")
        case 15..<18:
            return RegistryEvent(
                sequence: sequence,
                timeMicroseconds: time,
                kind: .expire,
                service: key,
                peer: "",
                lapsedAtMicroseconds: time - 1,
                renewSequence: random.next() % 2 == 0 ? nil : max(1, sequence &- 40)
            )
        case 18:
            return RegistryEvent(
                sequence: sequence,
                timeMicroseconds: time,
                kind: .start,
                service: empty,
                peer: "",
                leaseTTLMicroseconds: Int64(5 + random.next() % 40) * 1_000_000
            )
        default:
            return RegistryEvent(
                sequence: sequence,
                timeMicroseconds: time,
                kind: .stall,
                service: empty,
                peer: "",
                leaseTTLMicroseconds: 30_000_000
            )
        }
    }
}

/// `ChunkedArray.withAddress` finds the element it names, in every chunk, as the table's prefetch reads it.
@Suite struct ChunkedArrayAddressTests {
    // Proves the address given for each index holds that element, across chunks and in a first
    // chunk that grew, and that an index past the end gives none.
    @Test func addressesHoldTheirElements() {
        var array = ChunkedArray<Int>()
        let count = ChunkedArray<Int>.chunkSize * 2 + 5
        for value in 0..<count { array.append(value * 3 + 1) }
        for index in [0, 1, ChunkedArray<Int>.chunkSize - 1, ChunkedArray<Int>.chunkSize, count - 1] {
            var found: Int?
            array.withAddress(of: index) { found = $0.load(as: Int.self) }
            #expect(found == index * 3 + 1)
        }
        var past = false
        array.withAddress(of: count) { _ in past = true }
        #expect(!past)
    }
}

/// A snapshot's header as `Projection.snapshotBytes` writes it (format 2, the last sequence, its
/// time, the lease TTL), for tests that write the sections after it by hand.
private func snapshotHeader(lastSequence: UInt64, time: Int64, leaseTTL: Int64 = 45_000_000) -> ByteWriter {
    var writer = ByteWriter()
    writer.writeByte(2)
    writer.writeVarint(lastSequence)
    writer.writeSignedVarint(time)
    writer.writeSignedVarint(leaseTTL)
    return writer
}
