import Testing

@testable import Registry

/// `SnapshotComparer` (what `verify` compares each snapshot with) answers exactly as comparing
/// with the projection's whole encoding does, while encoding only what changed.
@Suite struct SnapshotComparerTests {
    // Proves that along a long random fold (registers, renews, expiries, revives, deregisters,
    // prunes after day-long gaps, keys that are not ASCII, canonically equivalent spellings) the
    // comparer accepts the projection's own bytes at every snapshot, mostly by the shortcut, and
    // rejects every damaged copy: a byte changed, a lapsed entry dropped, duplicated or out of order.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func agreesWithTheWholeEncoding(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var projection = Projection()
        var comparer = SnapshotComparer()
        var time = micros(1_000)
        var comparisons = 0
        var lapsedMost = 0
        var previous = projection.snapshotBytes()
        for sequence in 1...UInt64(6_000) {
            time += Int64(random.next() % 2_000_000)
            if random.next() % 1_500 == 0 { time += Projection.reviveWindowMicroseconds / 2 }
            projection.apply(Self.randomEvent(sequence, time: time, &random))
            lapsedMost = max(lapsedMost, projection.lapsedEntryCount)
            guard sequence % 50 == 0 else { continue }
            let bytes = projection.snapshotBytes()
            if sequence % 100 == 0 {
                for damaged in Self.damagedCopies(of: bytes, &random) {
                    #expect(!comparer.matches(damaged, &projection), "seed \(seed) sequence \(sequence)")
                }
            }
            // Today's header and live leases with the lapsed services of the previous snapshot.
            let stale = try Self.withLapsedSection(of: previous, in: bytes)
            if stale != bytes {
                #expect(!comparer.matches(stale, &projection), "seed \(seed) sequence \(sequence)")
            }
            #expect(comparer.matches(bytes, &projection), "seed \(seed) sequence \(sequence)")
            comparisons += 1
            previous = bytes
        }
        #expect(lapsedMost > 30)
        #expect(comparer.incrementalComparisons * 10 > comparisons * 8, "\(comparer.incrementalComparisons) of \(comparisons)")
    }

    // Proves a comparer does not take a shortcut with a projection whose changes another
    // comparer logged: it compares the whole encoding instead.
    @Test func anotherComparersProjectionIsComparedWhole() {
        var random = SplitMix64(seed: 9)
        var projection = Projection()
        for sequence in 1...UInt64(400) {
            projection.apply(Self.randomEvent(sequence, time: micros(Double(sequence)), &random))
        }
        var first = SnapshotComparer()
        var second = SnapshotComparer()
        #expect(first.matches(projection.snapshotBytes(), &projection))
        #expect(second.matches(projection.snapshotBytes(), &projection))
        #expect(first.matches(projection.snapshotBytes(), &projection))
        #expect(first.incrementalComparisons == 0 && second.incrementalComparisons == 0)
    }

    // Proves a prune forgets exactly the lapsed services older than the revive window, and a
    // later prune still finds those that lapsed after the first (the bound that spares a pass).
    @Test func pruneForgetsOnlyServicesBeyondTheWindow() {
        let window = Double(Projection.reviveWindowMicroseconds) / 1_000_000
        var projection = Projection()
        projection.apply(event(1, at: 0, .register, id: "a", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(2, at: 50, .expire, id: "a", lapsedAt: micros(45)))
        projection.apply(event(3, at: 1_000, .register, id: "b", network: "tcp", address: "1.2.3.4:80"))
        projection.apply(event(4, at: 1_050, .expire, id: "b", lapsedAt: micros(1_045)))
        projection.apply(event(5, at: window + 500, .start, name: "", ttl: micros(45)))
        #expect(projection.lapsedEntry(name: "tunnel-a", id: "a") == nil)
        #expect(projection.lapsedEntry(name: "tunnel-a", id: "b")?.lapsedAtMicroseconds == micros(1_045))
        projection.apply(event(6, at: window + 600, .start, name: "", ttl: micros(45)))
        #expect(projection.lapsedEntryCount == 1)
        projection.apply(event(7, at: window + 1_046, .start, name: "", ttl: micros(45)))
        #expect(projection.lapsedEntryCount == 0)
    }

    /// A record for a small key space: names and ids that are ASCII, not ASCII, and "é" spelled
    /// precomposed and decomposed (one key).
    static func randomEvent(_ sequence: UInt64, time: Int64, _ random: inout SplitMix64) -> RegistryEvent {
        let names = ["tunnel-0", "tunnel-1", "tunnel-2", "tünnel-3", "caf\u{E9}", "cafe\u{301}"]
        let ids = (0..<30).map { "c\($0)" } + ["\u{E9}1", "e\u{301}1", "\u{212B}"]
        let kinds: [EventKind] = [.register, .register, .renew, .renew, .renew, .expire, .expire, .deregister]
        let kind: EventKind = random.next() % 200 == 0 ? .start : kinds[Int(random.next() % UInt64(kinds.count))]
        let id = ids[Int(random.next() % UInt64(ids.count))]
        let name = names[Int(random.next() % UInt64(names.count))]
        return RegistryEvent(
            sequence: sequence, timeMicroseconds: time, kind: kind,
            service: Service(
                id: kind == .start ? "" : id, name: kind == .start ? "" : name, node: "node-\(random.next() % 3)",
                network: kind == .register ? "tcp" : "", address: kind == .register ? "10.0.0.\(random.next() % 9):80" : ""),
            peer: "", lapsedAtMicroseconds: kind == .expire ? time - Int64(random.next() % 3_000_000) : nil,
            leaseTTLMicroseconds: kind == .start ? micros(5) : nil)
    }

    /// `bytes` up to its lapsed entries, then the lapsed entries of `other`.
    static func withLapsedSection(of other: [UInt8], in bytes: [UInt8]) throws -> [UInt8] {
        let starts = try #require(SnapshotComparer.lapsedEntryStarts(bytes))
        let otherStarts = try #require(SnapshotComparer.lapsedEntryStarts(other))
        return Array(bytes[..<starts[0]]) + other[otherStarts[0]...]
    }

    /// Copies of projection bytes, each damaged one way.
    static func damagedCopies(of bytes: [UInt8], _ random: inout SplitMix64) -> [[UInt8]] {
        var copies: [[UInt8]] = []
        var flipped = bytes
        flipped[Int(random.next() % UInt64(bytes.count))] ^= 1 << (random.next() % 8)
        copies.append(flipped)
        copies.append(bytes + [0])
        copies.append(Array(bytes.dropLast()))
        copies += damagedLiveSections(of: bytes, &random)
        guard let starts = SnapshotComparer.lapsedEntryStarts(bytes), starts.count >= 3 else { return copies }
        let entry = Int(random.next() % UInt64(starts.count - 2))
        copies += swappedAndDoubled(bytes, starts: starts, at: entry)
        let lastEntryFlip = starts[starts.count - 2] + Int(random.next() % UInt64(starts.last! - starts[starts.count - 2]))
        var lastFlipped = bytes
        lastFlipped[lastEntryFlip] ^= 0x40
        copies.append(lastFlipped)
        return copies
    }

    /// Copies with the live leases damaged in ways the comparer's check in place must see: two
    /// leases swapped, one dropped and its neighbour doubled, and a length or a number written in
    /// a longer varint form that reads as the same value.
    static func damagedLiveSections(of bytes: [UInt8], _ random: inout SplitMix64) -> [[UInt8]] {
        let starts = liveEntryStarts(bytes)
        guard starts.count >= 2 else { return [] }
        var copies: [[UInt8]] = []
        let entry = Int(random.next() % UInt64(starts.count - 1))
        // A string length (the id's, first in the entry) in two bytes.
        var longLength = bytes
        longLength[starts[entry]] |= 0x80
        longLength.insert(0, at: starts[entry] + 1)
        copies.append(longLength)
        // The last number of the entry (its last renew sequence) one byte longer.
        var longNumber = bytes
        longNumber[starts[entry + 1] - 1] |= 0x80
        longNumber.insert(0, at: starts[entry + 1])
        copies.append(longNumber)
        guard starts.count >= 3 else { return copies }
        copies += swappedAndDoubled(bytes, starts: starts, at: entry % (starts.count - 2))
        return copies
    }

    /// Copies with the entries at `entry` and `entry + 1` (bounded by `starts`) swapped, and with
    /// one of them dropped and the other doubled, so the entry count still holds.
    static func swappedAndDoubled(_ bytes: [UInt8], starts: [Int], at entry: Int) -> [[UInt8]] {
        let first = Array(bytes[starts[entry]..<starts[entry + 1]])
        let second = Array(bytes[starts[entry + 1]..<starts[entry + 2]])
        let before = Array(bytes[..<starts[entry]])
        let after = Array(bytes[starts[entry + 2]...])
        return [before + second + first + after, before + first + first + after, before + second + second + after]
    }

    /// Where each live lease of (version 2) projection bytes starts, then where the last ends.
    static func liveEntryStarts(_ bytes: [UInt8]) -> [Int] {
        var offset = 1
        func varint() -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while bytes[offset] >= 0x80 {
                value |= UInt64(bytes[offset] & 0x7F) << shift
                shift += 7
                offset += 1
            }
            value |= UInt64(bytes[offset]) << shift
            offset += 1
            return value
        }
        for _ in 0..<3 { _ = varint() }
        let count = Int(varint())
        var starts: [Int] = []
        for _ in 0..<count {
            starts.append(offset)
            for _ in 0..<5 { offset += Int(varint()) }
            for _ in 0..<4 { _ = varint() }
        }
        starts.append(offset)
        return starts
    }
}
