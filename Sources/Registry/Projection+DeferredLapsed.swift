/// The lapsed entries of a snapshot load that deferred them (`Projection(snapshotBytes:deferringLapsed:)`):
/// the snapshot's bytes and, for each entry, where it starts and when it lapsed, found by the hash
/// of its key. Most of a snapshot is lapsed services and a fold of an hour looks up few of them, so
/// decoding them all into `Projection.lapsed` was most of a load the replay tool throws away.
///
/// An entry moves into `Projection.lapsed` (decoded) when the fold looks up its key's hash, and
/// all move before anything enumerates, encodes or compares the lapsed services; a prune drops the
/// entries past its horizon here as it does there. Only a section whose entries are all ASCII with
/// one-byte lengths and strictly rising keys is deferred (no key then repeats: the checks the eager
/// load makes all pass); any other is loaded eagerly, so it is accepted or refused exactly as then.
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
        var offsets: [UInt32] = []
        offsets.reserveCapacity(count)
        var lapsedAts: [Int64] = []
        lapsedAts.reserveCapacity(count)
        var capacity = 16
        while capacity < count * 2 { capacity *= 2 }
        var slots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        var lowerBound = Int64.max
        var previousName = noBytes
        var previousID = noBytes
        let indexed = slots.withUnsafeMutableBufferPointer { slots in
            for entry in 0..<count {
                let offset = reader.offset
                guard let fields = try? reader.readServiceFields(), fields.ascii,
                    Projection.follows(fields.1, fields.0, ascii: true, after: previousName, previousID),
                    (try? reader.readSignedVarint()) != nil,
                    let lapsed = try? reader.readSignedVarint()
                else { return false }
                let hash = serviceHash(fields.1, fields.0)
                var position = Int(hash) & mask
                while slots[position] != 0 { position = (position + 1) & mask }
                slots[position] = UInt64(hash) << 32 | UInt64(entry + 1)
                offsets.append(UInt32(offset))
                lapsedAts.append(lapsed)
                lowerBound = min(lowerBound, lapsed)
                previousName = fields.1
                previousID = fields.0
            }
            return true
        }
        guard indexed else { return nil }
        var index = DeferredLapsedEntries()
        if count > 0 {
            index.bytes = bytes
            index.offsets = offsets
            index.lapsedAt = lapsedAts
            index.slots = slots
            index.count = count
        }
        return (index, reader, lowerBound)
    }

    /// Takes out an entry whose key hashes to `hash` (at most one unless keys collide): its offset,
    /// nil when none is left.
    mutating func take(hash: UInt32) -> Int? {
        guard count > 0 else { return nil }
        let mask = slots.count - 1
        var position = Int(hash) & mask
        while true {
            let slot = slots[position]
            if slot == 0 { return nil }
            if UInt32(truncatingIfNeeded: slot >> 32) == hash {
                let entry = Int(UInt32(truncatingIfNeeded: slot)) - 1
                let offset = offsets[entry]
                if offset != Self.gone {
                    offsets[entry] = Self.gone
                    count -= 1
                    if count == 0 { self = DeferredLapsedEntries() }
                    return Int(offset)
                }
            }
            position = (position + 1) & mask
        }
    }

    /// The offsets of the entries still here whose key hashes to `hash`.
    func offsets(hash: UInt32) -> [Int] {
        guard count > 0 else { return [] }
        var result: [Int] = []
        let mask = slots.count - 1
        var position = Int(hash) & mask
        while slots[position] != 0 {
            let slot = slots[position]
            let entry = Int(UInt32(truncatingIfNeeded: slot)) - 1
            if UInt32(truncatingIfNeeded: slot >> 32) == hash, offsets[entry] != Self.gone {
                result.append(Int(offsets[entry]))
            }
            position = (position + 1) & mask
        }
        return result
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

    /// The offsets of the entries still here, in snapshot order (name then id).
    var remainingOffsets: [Int] {
        var result: [Int] = []
        result.reserveCapacity(count)
        for offset in offsets where offset != Self.gone { result.append(Int(offset)) }
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
    }

    /// Moves every deferred lapsed entry into `lapsed`: before anything enumerates, encodes or
    /// compares the lapsed services.
    mutating func undeferAllLapsed() {
        guard deferredLapsed.count > 0 else { return }
        let deferred = deferredLapsed
        deferredLapsed = DeferredLapsedEntries()
        let offsets = deferred.remainingOffsets
        lapsed.reserveCapacity(lapsed.count + offsets.count)
        for offset in offsets {
            let (entry, hash) = deferred.entry(at: offset)
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
