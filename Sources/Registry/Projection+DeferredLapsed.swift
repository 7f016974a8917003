import CPrefetch

/// The lapsed entries of a snapshot load that deferred them (`Projection(snapshotBytes:deferringLapsed:)`):
/// the snapshot's bytes and, for each entry, where it starts and when it lapsed, found by the hash
/// of its key. Most of a snapshot is lapsed services and a fold of an hour looks up few of them, so
/// decoding them all into `Projection.lapsed` was most of a load the replay tool throws away.
///
/// An entry moves into `Projection.lapsed` (decoded) when the fold looks up its key's hash, and
/// all move before anything enumerates, encodes or compares the lapsed services; a prune drops the
/// entries past its horizon here as it does there. Only a section whose entries are all ASCII with
/// one-byte lengths and whose keys do not repeat is deferred (the checks the eager load makes all
/// pass); any other is loaded eagerly, so it is accepted or refused exactly as then.
struct DeferredLapsedEntries: Sendable {
    /// The projection bytes the offsets point into.
    private(set) var bytes: [UInt8] = []
    /// Where each entry starts in `bytes`; `gone` once it moved into the table or was pruned.
    private var offsets: [UInt32] = []
    /// When each entry lapsed (µs).
    private var lapsedAt: [Int64] = []
    /// Open addressing over the entries: `hash << 32 | (entry + 1)`, 0 empty. Slots are never
    /// cleared (an entry that is gone is skipped), so a probe runs to the first empty slot.
    private var slots: [UInt64] = []
    /// Entries still here.
    private(set) var count = 0

    private static let gone = UInt32.max

    init() {}

    /// Indexes the lapsed section (count first) that `reader` is at, in `bytes` (the buffer under
    /// `reader`); returns the index, the reader after the section and the earliest lapse. Nil when
    /// the section is not one it defers (see the type) or does not read: the caller loads it
    /// eagerly from the same place, which reports any damage.
    static func index(
        _ start: ByteReader,
        in bytes: [UInt8]
    ) -> (entries: DeferredLapsedEntries, reader: ByteReader, lapsedAtLowerBound: Int64)? {
        var reader = start
        guard bytes.count == start.bytes.count, bytes.count < Int(gone),
            let count = try? reader.readCount(max: Projection.encodedEntriesMax, what: "lapsed entry count"),
            // An entry takes at least seven bytes (five lengths, two varints): a larger count is damage.
            count <= reader.remaining / 7
        else { return nil }
        guard count > 0 else { return (DeferredLapsedEntries(), reader, Int64.max) }
        var offsets = [UInt32](repeating: 0, count: count)
        var lapsedAts = [Int64](repeating: 0, count: count)
        var capacity = 16
        while capacity < count * 2 { capacity *= 2 }
        var slots = [UInt64](repeating: 0, count: capacity)
        var lowerBound = Int64.max
        let end = offsets.withUnsafeMutableBufferPointer { offsets in
            lapsedAts.withUnsafeMutableBufferPointer { lapsedAts in
                slots.withUnsafeMutableBufferPointer { slots in
                    let table = IndexBuilder(bytes: start.bytes, offsets: offsets, slots: slots)
                    var position = reader.offset
                    // Entries are filed `IndexBuilder.depth` behind their reading, their slots
                    // prefetched meanwhile (the slots are spread over megabytes, so each filing
                    // was a cache miss); filed in order, so a repeated key is refused as before.
                    var held = IndexBuilder.Held()
                    for entry in 0..<count {
                        guard let read = table.read(at: &position) else { return nil as Int? }
                        lapsedAts[entry] = read.lapsed
                        lowerBound = min(lowerBound, read.lapsed)
                        table.prefetchSlot(read.hash)
                        if entry >= IndexBuilder.depth {
                            guard table.file(entry - IndexBuilder.depth, held[entry - IndexBuilder.depth]) else { return nil }
                        }
                        held[entry] = (read.hash, read.start)
                    }
                    for entry in max(0, count - IndexBuilder.depth)..<count {
                        guard table.file(entry, held[entry]) else { return nil }
                    }
                    return position
                }
            }
        }
        guard let end else { return nil }
        reader = ByteReader(start.bytes, offset: end)
        var index = DeferredLapsedEntries()
        index.bytes = bytes
        index.offsets = offsets
        index.lapsedAt = lapsedAts
        index.slots = slots
        index.count = count
        return (index, reader, lowerBound)
    }

    /// Takes out an entry whose key hashes to `hash` (at most one unless keys collide): its offset,
    /// nil when none is left. The bytes stay (`entry(at:)` reads it) until `releaseWhenEmpty()`.
    mutating func take(hash: UInt32) -> Int? {
        guard count > 0,
            let entry = slots.withUnsafeBufferPointer({ slots in
                probeSlots(slots, hash: hash) { offsets[$0] != Self.gone }
            })
        else { return nil }
        let offset = offsets[entry]
        offsets[entry] = Self.gone
        count -= 1
        return Int(offset)
    }

    /// The offsets of the entries still here whose key hashes to `hash`.
    func offsets(hash: UInt32) -> [Int] {
        guard count > 0 else { return [] }
        var result: [Int] = []
        _ = slots.withUnsafeBufferPointer { slots in
            probeSlots(slots, hash: hash) { entry in
                if offsets[entry] != Self.gone { result.append(Int(offsets[entry])) }
                return false
            }
        }
        return result
    }

    /// Lets go of the bytes and the index once no entry is left.
    mutating func releaseWhenEmpty() {
        if count == 0, !bytes.isEmpty { self = DeferredLapsedEntries() }
    }

    /// Drops the entries that lapsed before `horizon`; returns the earliest lapse of those left
    /// (`Int64.max` when none is).
    mutating func prune(before horizon: Int64) -> Int64 {
        var oldest = Int64.max
        var left = count
        offsets.withUnsafeMutableBufferPointer { offsets in
            lapsedAt.withUnsafeBufferPointer { lapsedAt in
                for entry in 0..<offsets.count where offsets[entry] != Self.gone {
                    if lapsedAt[entry] < horizon {
                        offsets[entry] = Self.gone
                        left -= 1
                    } else {
                        oldest = min(oldest, lapsedAt[entry])
                    }
                }
            }
        }
        count = left
        if count == 0 { self = DeferredLapsedEntries() }
        return oldest
    }

    /// The offsets of the entries still here, in snapshot order, with when each lapsed.
    var remaining: [(offset: Int, lapsedAt: Int64)] {
        var result: [(offset: Int, lapsedAt: Int64)] = []
        result.reserveCapacity(count)
        for (offset, lapsedAt) in zip(offsets, lapsedAt) where offset != Self.gone {
            result.append((Int(offset), lapsedAt))
        }
        return result
    }

    /// The entry at `offset` (one `index` read whole), with its key's hash.
    func entry(at offset: Int) -> (service: LapsedService, hash: UInt32) {
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw, offset: offset)
            guard let fields = try? reader.readServiceFields(), let registeredAt = try? reader.readSignedVarint(),
                let lapsedAt = try? reader.readSignedVarint()
            else { preconditionFailure("deferred lapsed entry at \(offset) of \(raw.count) bytes unreadable") }
            let (id, name, node, network, address, _) = fields
            let service = LapsedService(
                service: Service(
                    id: String(decoding: id, as: UTF8.self),
                    name: String(decoding: name, as: UTF8.self),
                    node: String(decoding: node, as: UTF8.self),
                    network: String(decoding: network, as: UTF8.self),
                    address: String(decoding: address, as: UTF8.self)
                ),
                registeredAtMicroseconds: registeredAt,
                lapsedAtMicroseconds: lapsedAt
            )
            return (service, serviceHash(name, id))
        }
    }
}

extension Projection {
    /// Moves the deferred lapsed entries whose key hashes to `hash` into `lapsed`: before any
    /// lookup of a key there, so the table answers as if the load had decoded them all.
    @inline(__always)
    mutating func undeferLapsed(hash: UInt32) {
        if deferredLapsed.count > 0 { undeferLapsedEntries(hash: hash) }
    }

    @inline(never)
    private mutating func undeferLapsedEntries(hash: UInt32) {
        while let offset = deferredLapsed.take(hash: hash) {
            let (entry, entryHash) = deferredLapsed.entry(at: offset)
            assert(entryHash == hash, "deferred lapsed entry at \(offset) filed under another hash")
            lapsed.insert(name: entry.service.name, id: entry.service.id, hash: entryHash, entry, ascii: true)
        }
        deferredLapsed.releaseWhenEmpty()
    }

    /// Moves every deferred lapsed entry into `lapsed`: before anything enumerates, encodes or
    /// compares the lapsed services.
    mutating func undeferAllLapsed() {
        guard deferredLapsed.count > 0 else { return }
        let deferred = deferredLapsed
        deferredLapsed = DeferredLapsedEntries()
        let remaining = deferred.remaining
        lapsed.reserveCapacity(lapsed.count + remaining.count)
        for (offset, lapsedAt) in remaining {
            let (entry, hash) = deferred.entry(at: offset)
            assert(entry.lapsedAtMicroseconds == lapsedAt, "deferred lapsed entry at \(offset) indexed as \(lapsedAt)")
            lapsed.insert(name: entry.service.name, id: entry.service.id, hash: hash, entry, ascii: true)
        }
    }

    /// This projection with every deferred lapsed entry decoded (itself when none is deferred).
    var undeferred: Projection {
        guard deferredLapsed.count > 0 else { return self }
        var copy = self
        copy.undeferAllLapsed()
        return copy
    }

    /// The number of lapsed entries a load left deferred (0 after an eager load).
    package var deferredLapsedEntryCount: Int { deferredLapsed.count }
}

/// The steps of `DeferredLapsedEntries.index`: reads an entry in place, checking what the eager load
/// checks (one-byte lengths within the bytes, ASCII, varints of at most ten bytes), and files it by
/// its key's hash, refusing a key filed already (the eager load refuses it too).
private struct IndexBuilder {
    let bytes: UnsafeRawBufferPointer
    let offsets: UnsafeMutableBufferPointer<UInt32>
    let slots: UnsafeMutableBufferPointer<UInt64>

    /// How many entries are read ahead of the one filed.
    static let depth = 16

    /// The entries read and not yet filed: each one's key hash and where it starts.
    struct Held {
        private var items = [(hash: UInt32, start: Int)](repeating: (0, 0), count: IndexBuilder.depth)

        subscript(entry: Int) -> (hash: UInt32, start: Int) {
            get { items[entry & (IndexBuilder.depth - 1)] }
            set { items[entry & (IndexBuilder.depth - 1)] = newValue }
        }
    }

    /// Reads the entry that starts at `position`, moving `position` past it: its key's hash, its
    /// start and when it lapsed; nil when the entry is not one to defer or does not read.
    @inline(__always)
    func read(at position: inout Int) -> (hash: UInt32, start: Int, lapsed: Int64)? {
        let start = position
        guard skipField(&position) else { return nil }
        let nameStart = position
        guard skipField(&position), skipField(&position), skipField(&position), skipField(&position),
            // The length bytes are below 0x80 too: the span is ASCII exactly when every field is.
            ByteReader.isASCII(UnsafeRawBufferPointer(rebasing: bytes[start..<position])),
            Self.skipVarint(bytes, &position), let lapsed = Self.varint(bytes, &position)
        else { return nil }
        let hash = serviceHash(field(at: nameStart), field(at: start))
        return (hash, start, Int64(bitPattern: lapsed >> 1) ^ -Int64(bitPattern: lapsed & 1))
    }

    /// Starts loading the slot where a key with `hash` is filed first.
    @inline(__always)
    func prefetchSlot(_ hash: UInt32) {
        if let base = slots.baseAddress { tunnel_registry_prefetch(base + (Int(hash) & (slots.count - 1))) }
    }

    /// Files entry number `entry` (read by `read`) under its key's hash; false when its key is
    /// filed already.
    @inline(__always)
    func file(_ entry: Int, _ read: (hash: UInt32, start: Int)) -> Bool {
        let (hash, start) = read
        let id = field(at: start)
        let name = field(at: start + 1 + id.count)
        let mask = slots.count - 1
        var slot = Int(hash) & mask
        while slots[slot] != 0 {
            if UInt32(truncatingIfNeeded: slots[slot] >> 32) == hash {
                let other = Int(offsets[Int(UInt32(truncatingIfNeeded: slots[slot])) - 1])
                let otherID = field(at: other)
                let otherName = field(at: other + 1 + otherID.count)
                if sameBytes(otherID, id), sameBytes(otherName, name) { return false }
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = UInt64(hash) << 32 | UInt64(entry + 1)
        offsets[entry] = UInt32(start)
        return true
    }

    /// Moves past the field at `position` when its length takes one byte and its bytes are there
    /// (`ByteReader.readShortField`); false, leaving `position` anywhere, when not.
    @inline(__always)
    private func skipField(_ position: inout Int) -> Bool {
        // `position` stays within the bytes, so the wrapping sums do not wrap.
        guard position < bytes.count else { return false }
        let length = Int(bytes[position])
        guard length < 0x80, length < bytes.count &- position else { return false }
        position = position &+ 1 &+ length
        return true
    }

    /// The bytes of the length-prefixed field at `offset` (its length checked already).
    @inline(__always)
    private func field(at offset: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[offset + 1..<offset + 1 + Int(bytes[offset])])
    }

    /// `ByteReader.readVarint` in place: nil where it throws.
    @inline(__always)
    private static func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> UInt64? {
        // Eight bytes or fewer (every instant before the year 2250): found in one word, no overflow.
        if let length = shortVarintLength(bytes, position), let base = bytes.baseAddress {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            let kept = length == 8 ? UInt64.max : (1 << (8 * UInt64(length))) - 1
            // The seven-bit groups of the varint's bytes, pushed together in three steps.
            var value = word & kept & 0x7F7F_7F7F_7F7F_7F7F
            value = (value & 0x007F_007F_007F_007F) | ((value & 0x7F00_7F00_7F00_7F00) >> 1)
            value = (value & 0x0000_3FFF_0000_3FFF) | ((value & 0x3FFF_0000_3FFF_0000) >> 2)
            value = (value & 0x0000_0000_0FFF_FFFF) | ((value & 0x0FFF_FFFF_0000_0000) >> 4)
            position += length
            return value
        }
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }

    /// Moves past the varint at `position`; false where `ByteReader.readVarint` throws.
    @inline(__always)
    private static func skipVarint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> Bool {
        if let length = shortVarintLength(bytes, position) {
            position += length
            return true
        }
        return varint(bytes, &position) != nil
    }

    /// The length of the varint at `position` when it ends within the next eight bytes (all there).
    @inline(__always)
    private static func shortVarintLength(_ bytes: UnsafeRawBufferPointer, _ position: Int) -> Int? {
        guard bytes.count - position >= 8, let base = bytes.baseAddress else { return nil }
        let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        let ends = ~word & 0x8080_8080_8080_8080
        guard ends != 0 else { return nil }
        return ends.trailingZeroBitCount / 8 + 1
    }
}
