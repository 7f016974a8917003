import Registry

/// Records held back `depth` places before they are folded, so the live lease each one touches
/// is loaded while the ones before it fold (`Projection.prefetchLease`): its slot when it
/// arrives, its entry halfway, its id's bytes a quarter of the way before its turn. A renew's
/// lookup is three cache misses in a chain; folded in turn, records wait on each one by one.
///
/// Each record is held as a copy of its payload (a payload borrowed from a log batch is valid
/// only while that batch is read). A value type, so the fold that owns it folds and holds
/// without reference counting or run-time exclusivity checks (a class cost what it saved).
struct LookaheadRing {
    /// Records held back; the stages are `depth`, `depth / 2` and `depth / 4` records ahead.
    static let depth = 16
    /// Payloads longer than this are not held (every record the server writes is far shorter).
    static let payloadBytesMax = 512

    private(set) var payloads = [UInt8](repeating: 0, count: LookaheadRing.depth * LookaheadRing.payloadBytesMax)
    private(set) var sequences = [UInt64](repeating: 0, count: LookaheadRing.depth)
    private(set) var times = [Int64](repeating: 0, count: LookaheadRing.depth)
    private var lengths = [Int](repeating: 0, count: LookaheadRing.depth)
    /// Each record's lease hash (`Projection.leaseHash`), nil when its payload has none.
    private var hashes = [UInt32?](repeating: nil, count: LookaheadRing.depth)
    /// The ring position of the oldest record held, and how many are held.
    private(set) var oldest = 0
    private(set) var held = 0

    var isFull: Bool { held == Self.depth }

    /// The bytes range of the payload at ring `position` within `payloads`.
    func payloadRange(_ position: Int) -> Range<Int> {
        position * Self.payloadBytesMax..<position * Self.payloadBytesMax + lengths[position]
    }

    /// Holds a copy of the record (not full; `payload` at most `payloadBytesMax` bytes).
    mutating func hold(sequence: UInt64, time: Int64, payload: UnsafeRawBufferPointer) {
        precondition(held < Self.depth && payload.count <= Self.payloadBytesMax, "lookahead full or payload too long")
        let position = (oldest + held) % Self.depth
        payloads.withUnsafeMutableBytes { storage in
            if let source = payload.baseAddress, let target = storage.baseAddress {
                (target + position * Self.payloadBytesMax).copyMemory(from: source, byteCount: payload.count)
            }
        }
        sequences[position] = sequence
        times[position] = time
        lengths[position] = payload.count
        hashes[position] = Projection.leaseHash(payload: payload)
        held += 1
    }

    /// Forgets the oldest record held (after it was folded).
    mutating func dropOldest() {
        oldest = (oldest + 1) % Self.depth
        held -= 1
    }

    /// Starts the loads due now: the newest record's slot, the entry of the one `depth / 2`
    /// before its turn, the id bytes of the one `depth / 4` before.
    func prefetch(into projection: inout Projection) {
        if let hash = hash(ahead: held - 1) { projection.prefetchLease(hash: hash, .slot) }
        if let hash = hash(ahead: held - 1 - Self.depth / 2) { projection.prefetchLease(hash: hash, .entry) }
        if let hash = hash(ahead: held - 1 - 3 * Self.depth / 4) { projection.prefetchLease(hash: hash, .key) }
    }

    /// The lease hash of the record `ahead` places after the oldest held, if it has one.
    func hash(ahead: Int) -> UInt32? {
        ahead >= 0 ? hashes[(oldest + ahead) % Self.depth] : nil
    }
}
