/// Records held back `depth` places before they are folded, so the live lease each one touches
/// is loaded while the ones before it fold (`Projection.prefetchLeases`): its slot when it
/// arrives, its entry halfway, its id's bytes a quarter of the way before its turn. A renew's
/// lookup is three cache misses in a chain; folded in turn, records wait on each one by one.
///
/// Each record is held as a copy of its payload (a payload borrowed from a log batch is valid
/// only while that batch is read), or, from a caller that keeps the payload valid until the
/// record is folded, as its address (`hold(sequence:time:borrowing:)`), with its lease hash,
/// which the fold passes on to the projection (`Projection.apply(_:sequence:time:leaseHash:)`)
/// rather than hash the key again.
///
/// The held records live in memory the ring allocates once and writes through pointers: held in
/// arrays, every record paid two uniqueness checks and an array write's bounds checks. So copies
/// of a ring share what it holds: one fold owns a ring and folds what it holds, and a copy is
/// never used alongside it. A value type otherwise, so the fold that owns it folds and holds
/// without reference counting or run-time exclusivity checks (a class cost what it saved).
public struct LookaheadRing {
    /// Records held back; the stages are `depth`, `depth / 2` and `depth / 4` records ahead.
    @inlinable public static var depth: Int { 16 }
    /// Payloads longer than this are not held as copies (every record the server writes is far
    /// shorter); a borrowed payload may be of any length.
    @inlinable public static var payloadBytesMax: Int { 512 }

    /// What the ring keeps of a record besides its payload's bytes.
    public struct Held {
        public var sequence: UInt64 = 0
        public var time: Int64 = 0
        /// Where the payload's bytes are: the ring's copy, or the caller's bytes it borrows.
        public var payload: UnsafeRawPointer?
        /// The payload's length in bytes.
        public var length: Int32 = 0
        /// The live entry index its lease's lookup likely ends at, found when its entry was
        /// loaded (the load of its id's bytes reads it rather than look again); -1 for none.
        public var likelyIndex: Int32 = -1
        /// The record's lease hash (`Projection.leaseHash`), nil when its payload has none.
        public var hash: UInt32?

        @inlinable
        init(
            sequence: UInt64 = 0, time: Int64 = 0, payload: UnsafeRawPointer? = nil, length: Int32 = 0,
            hash: UInt32? = nil
        ) {
            self.sequence = sequence
            self.time = time
            self.payload = payload
            self.length = length
            self.hash = hash
        }
    }

    /// Owns the memory the records are held in (freed with the last copy of the ring).
    @usableFromInline
    final class Storage {
        @usableFromInline let payloads: UnsafeMutableRawPointer
        @usableFromInline let records: UnsafeMutablePointer<Held>

        @usableFromInline
        init() {
            payloads = UnsafeMutableRawPointer.allocate(
                byteCount: LookaheadRing.depth * LookaheadRing.payloadBytesMax, alignment: 16)
            records = UnsafeMutablePointer<Held>.allocate(capacity: LookaheadRing.depth)
            records.initialize(repeating: Held(), count: LookaheadRing.depth)
        }

        deinit {
            records.deinitialize(count: LookaheadRing.depth)
            records.deallocate()
            payloads.deallocate()
        }
    }

    @usableFromInline let storage: Storage
    /// `storage`'s pointers, read here without touching the object.
    @usableFromInline let payloads: UnsafeMutableRawPointer
    @usableFromInline let records: UnsafeMutablePointer<Held>
    // Public so the folds in other modules read them in place; only `hold` and `dropOldest`
    // change them.
    /// The ring position of the oldest record held.
    public var oldest = 0
    /// How many records are held.
    public var held = 0

    public init() {
        storage = Storage()
        payloads = storage.payloads
        records = storage.records
    }

    @inlinable
    public var isFull: Bool { held == Self.depth }

    /// The oldest record held (`held` > 0).
    @inlinable
    public var oldestRecord: Held { records[oldest] }

    /// The payload of the oldest record held (`held` > 0), valid until it is dropped.
    @inlinable
    public var oldestPayload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: records[oldest].payload, count: Int(records[oldest].length))
    }

    /// Holds a copy of the record (not full; `payload` at most `payloadBytesMax` bytes).
    @inlinable
    public mutating func hold(sequence: UInt64, time: Int64, payload: UnsafeRawBufferPointer) {
        precondition(held < Self.depth && payload.count <= Self.payloadBytesMax, "lookahead full or payload too long")
        let position = (oldest + held) & (Self.depth - 1)
        let copy = payloads + position * Self.payloadBytesMax
        Self.copy(payload, to: copy)
        records[position] = Held(
            sequence: sequence, time: time, payload: copy, length: Int32(truncatingIfNeeded: payload.count),
            hash: Projection.leaseHash(payload: payload))
        held += 1
    }

    /// Holds the record without copying its payload (not full; any length): the caller keeps its
    /// bytes valid until the record is dropped (folds every record held before the batch they
    /// come from goes). `hashKey` is `ServiceHashKey.process`, which the caller reads once (read
    /// per record, the global's lazy initialiser was checked per record).
    @inlinable
    public mutating func hold(
        sequence: UInt64, time: Int64, borrowing payload: UnsafeRawBufferPointer, hashKey: ServiceHashKey
    ) {
        precondition(held < Self.depth, "lookahead full")
        records[(oldest + held) & (Self.depth - 1)] = Held(
            sequence: sequence, time: time, payload: payload.baseAddress,
            length: Int32(truncatingIfNeeded: payload.count),
            hash: Projection.leaseHash(payload: payload, key: hashKey))
        held += 1
    }

    /// Copies `payload` to `target` (room for `payloadBytesMax` bytes): one of 32 to 64 bytes,
    /// the commonest, as four 16-byte moves (the last two overlapping as needed) rather than a call.
    @inlinable
    @inline(__always)
    static func copy(_ payload: UnsafeRawBufferPointer, to target: UnsafeMutableRawPointer) {
        guard let source = payload.baseAddress else { return }
        let count = payload.count
        if count >= 32, count <= 64 {
            let first = source.loadUnaligned(as: SIMD16<UInt8>.self)
            let second = source.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
            let third = source.loadUnaligned(fromByteOffset: count - 32, as: SIMD16<UInt8>.self)
            let fourth = source.loadUnaligned(fromByteOffset: count - 16, as: SIMD16<UInt8>.self)
            target.storeBytes(of: first, as: SIMD16<UInt8>.self)
            target.storeBytes(of: second, toByteOffset: 16, as: SIMD16<UInt8>.self)
            target.storeBytes(of: third, toByteOffset: count - 32, as: SIMD16<UInt8>.self)
            target.storeBytes(of: fourth, toByteOffset: count - 16, as: SIMD16<UInt8>.self)
        } else {
            target.copyMemory(from: source, byteCount: count)
        }
    }

    /// Forgets the oldest record held (after it was folded).
    @inlinable
    public mutating func dropOldest() {
        oldest = (oldest + 1) & (Self.depth - 1)
        held -= 1
    }

    /// Starts the loads due now, in one call: the newest record's slot, the entry of the one
    /// `depth / 2` before its turn, the id bytes of the one `depth / 4` before (from the entry
    /// index its entry's load found). Returns the live entry index that last one's lookup likely
    /// ends at (`Projection.prefetchLeases`), -1 for none.
    @inlinable
    @discardableResult
    public func prefetch(into projection: inout Projection) -> Int {
        let entryAhead = held - 1 - Self.depth / 2
        let keyAhead = held - 1 - 3 * Self.depth / 4
        let keyIndex = keyAhead >= 0 ? Int(records[(oldest + keyAhead) & (Self.depth - 1)].likelyIndex) : -1
        let entryIndex = projection.prefetchLeases(
            slot: hash(ahead: held - 1), entry: hash(ahead: entryAhead), keyAt: keyIndex)
        if entryAhead >= 0 {
            records[(oldest + entryAhead) & (Self.depth - 1)].likelyIndex = Int32(truncatingIfNeeded: entryIndex)
        }
        return keyIndex
    }

    /// The lease hash of the record `ahead` places after the oldest held, if it has one.
    @inlinable
    @inline(__always)
    public func hash(ahead: Int) -> UInt32? {
        ahead >= 0 ? records[(oldest + ahead) & (Self.depth - 1)].hash : nil
    }
}
