/// Records held back `depth` places before they are folded, so the live lease each one touches
/// is loaded while the ones before it fold (`Projection.prefetchLeases`): its slot when it
/// arrives, its entry halfway, its id's bytes a quarter of the way before its turn. A renew's
/// lookup is three cache misses in a chain; folded in turn, records wait on each one by one.
///
/// Each record is held as a copy of its payload (a payload borrowed from a log batch is valid
/// only while that batch is read) with its lease hash, which the fold passes on to the
/// projection (`Projection.apply(_:sequence:time:leaseHash:)`) rather than hash the key again.
/// A value type, so the fold that owns it folds and holds without reference counting or run-time
/// exclusivity checks (a class cost what it saved).
public struct LookaheadRing {
    /// Records held back; the stages are `depth`, `depth / 2` and `depth / 4` records ahead.
    @inlinable public static var depth: Int { 16 }
    /// Payloads longer than this are not held (every record the server writes is far shorter).
    @inlinable public static var payloadBytesMax: Int { 512 }

    /// What the ring keeps of a record besides its payload's bytes.
    public struct Held {
        public var sequence: UInt64 = 0
        public var time: Int64 = 0
        public var length = 0
        /// The record's lease hash (`Projection.leaseHash`), nil when its payload has none.
        public var hash: UInt32?

        @inlinable
        init(sequence: UInt64 = 0, time: Int64 = 0, length: Int = 0, hash: UInt32? = nil) {
            self.sequence = sequence
            self.time = time
            self.length = length
            self.hash = hash
        }
    }

    // Stored and public so the folds in other modules read them in place (inlined, no accessor
    // calls or retains per record); only `hold` and `dropOldest` change them.
    /// The held payloads' bytes, `payloadBytesMax` per ring position.
    public var payloads = [UInt8](repeating: 0, count: LookaheadRing.depth * LookaheadRing.payloadBytesMax)
    /// One array for the records' fields, so holding one checks one array's uniqueness, not four.
    public var records = [Held](repeating: Held(), count: LookaheadRing.depth)
    /// The ring position of the oldest record held.
    public var oldest = 0
    /// How many records are held.
    public var held = 0

    public init() {}

    @inlinable
    public var isFull: Bool { held == Self.depth }

    /// The bytes range of the payload at ring `position` within `payloads`.
    @inlinable
    public func payloadRange(_ position: Int) -> Range<Int> {
        position * Self.payloadBytesMax..<position * Self.payloadBytesMax + records[position].length
    }

    /// Holds a copy of the record (not full; `payload` at most `payloadBytesMax` bytes).
    @inlinable
    public mutating func hold(sequence: UInt64, time: Int64, payload: UnsafeRawBufferPointer) {
        precondition(held < Self.depth && payload.count <= Self.payloadBytesMax, "lookahead full or payload too long")
        let position = (oldest + held) & (Self.depth - 1)
        payloads.withUnsafeMutableBytes { storage in
            if let source = payload.baseAddress, let target = storage.baseAddress {
                (target + position * Self.payloadBytesMax).copyMemory(from: source, byteCount: payload.count)
            }
        }
        records[position] = Held(
            sequence: sequence, time: time, length: payload.count, hash: Projection.leaseHash(payload: payload))
        held += 1
    }

    /// Forgets the oldest record held (after it was folded).
    @inlinable
    public mutating func dropOldest() {
        oldest = (oldest + 1) & (Self.depth - 1)
        held -= 1
    }

    /// Starts the loads due now, in one call: the newest record's slot, the entry of the one
    /// `depth / 2` before its turn, the id bytes of the one `depth / 4` before. Returns the live
    /// entry index the last one's lookup likely ends at (`Projection.prefetchLeases`).
    @inlinable
    @discardableResult
    public func prefetch(into projection: inout Projection) -> Int? {
        projection.prefetchLeases(
            slot: hash(ahead: held - 1),
            entry: hash(ahead: held - 1 - Self.depth / 2),
            key: hash(ahead: held - 1 - 3 * Self.depth / 4))
    }

    /// The lease hash of the record `ahead` places after the oldest held, if it has one.
    @inlinable
    @inline(__always)
    public func hash(ahead: Int) -> UInt32? {
        ahead >= 0 ? records[(oldest + ahead) & (Self.depth - 1)].hash : nil
    }
}
