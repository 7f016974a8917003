import Registry

/// What a `LookaheadRing` feeds: the fold of a record, and the prefetch steps for one ahead on
/// the projection the fold is at (`Projection.prefetchLeaseSlot` and the next two).
protocol LookaheadFold {
    mutating func fold(_ sequence: UInt64, _ time: Int64, _ payload: UnsafeRawBufferPointer) throws
    func prefetchSlot(hash: UInt32)
    func prefetchEntry(hash: UInt32) -> Int?
    func prefetchKey(index: Int)
}

/// Holds the last few records of a scan back from the fold so that what the fold will read of
/// their leases is prefetched first: a lookup in the live map waited on three loads one after
/// another (slot, entry, stored key), each a cache miss once the map outgrows the cache. A record
/// that comes in starts loading its slot; four records later its entry; eight later its key; and
/// it is folded `depth` records after it came in. Records are folded in the order they came.
final class LookaheadRing {
    /// Records held back.
    static let depth = 12
    private static let capacity = 16
    /// Larger payloads are not held: the ring is folded up to them first.
    static let recordBytes = 256

    private struct Held {
        var sequence: UInt64
        var time: Int64
        var length: Int
        /// The live map's hash of the record's key; -1 for a control record.
        var hash: Int64
        /// The entry index the second step found; -1 when none.
        var entry: Int
    }

    private let payloads = UnsafeMutableRawPointer.allocate(
        byteCount: LookaheadRing.capacity * LookaheadRing.recordBytes, alignment: 16)
    private let held = UnsafeMutablePointer<Held>.allocate(capacity: LookaheadRing.capacity)
    private var next = 0
    private var count = 0

    init() {
        held.initialize(repeating: Held(sequence: 0, time: 0, length: 0, hash: -1, entry: -1), count: Self.capacity)
    }

    deinit {
        payloads.deallocate()
        held.deallocate()
    }

    /// Takes in a record and folds the one it pushes out, if any.
    @inline(__always)
    func add<Fold: LookaheadFold>(
        _ sequence: UInt64, _ time: Int64, _ payload: UnsafeRawBufferPointer, into fold: inout Fold
    ) throws {
        guard payload.count <= Self.recordBytes, let source = payload.baseAddress else {
            try drain(into: &fold)
            try fold.fold(sequence, time, payload)
            return
        }
        if count == Self.depth { try foldOldest(into: &fold) }
        let mask = Self.capacity - 1
        let position = next
        (payloads + position * Self.recordBytes).copyMemory(from: source, byteCount: payload.count)
        var hash: Int64 = -1
        if let (name, id) = Self.peekKey(payload) {
            let value = Projection.leaseHash(name: name, id: id)
            fold.prefetchSlot(hash: value)
            hash = Int64(value)
        }
        held[position] = Held(sequence: sequence, time: time, length: payload.count, hash: hash, entry: -1)
        next = (next + 1) & mask
        count += 1
        if count > 4 {
            let earlier = (position - 4) & mask
            if held[earlier].hash >= 0 { held[earlier].entry = fold.prefetchEntry(hash: UInt32(held[earlier].hash)) ?? -1 }
        }
        if count > 8 {
            let earlier = (position - 8) & mask
            if held[earlier].entry >= 0 { fold.prefetchKey(index: held[earlier].entry) }
        }
    }

    /// Folds every record held, oldest first.
    func drain<Fold: LookaheadFold>(into fold: inout Fold) throws {
        while count > 0 { try foldOldest(into: &fold) }
    }

    @inline(__always)
    private func foldOldest<Fold: LookaheadFold>(into fold: inout Fold) throws {
        let position = (next - count) & (Self.capacity - 1)
        count -= 1
        let record = held[position]
        try fold.fold(
            record.sequence, record.time,
            UnsafeRawBufferPointer(start: payloads + position * Self.recordBytes, count: record.length))
    }

    /// The id and tunnel name of a service event's payload, read without checking the rest of it
    /// (docs/FORMAT.md: `version kind id name ...`, lengths below 128 in one byte); nil when the
    /// payload is not plainly one (only a prefetch is skipped: the fold checks it whole).
    @inline(__always)
    static func peekKey(_ payload: UnsafeRawBufferPointer) -> (name: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer)? {
        guard let name = SessionQuery.peekName(payload) else { return nil }
        return (name, UnsafeRawBufferPointer(rebasing: payload[3..<(3 + Int(payload[2]))]))
    }
}
