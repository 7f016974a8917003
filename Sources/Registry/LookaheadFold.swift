/// Folds records into a projection a few places after they are read, so the live lease each one
/// touches is being loaded while the ones before it fold (`Projection.prefetchLeases`): its hash
/// slot when it arrives, its entry halfway, its id's bytes a quarter of the way before its turn.
/// A renew's lookup is three cache misses in a chain; folded as read, a restart's replay waits on
/// each in turn (README "Performance"). The projection folded is the one the records give folded
/// one by one: only when each is folded changes.
///
/// Each record is held as a copy of its payload (a payload lent by a read is valid only during
/// the call) with its lease hash, which the fold passes on rather than hash the key again.
struct LookaheadFold {
    /// Records held back; the stages are `depth`, `depth / 2` and `depth / 4` records ahead.
    static let depth = 16
    /// Payloads longer than this are folded at once, after those held (every record the server
    /// writes is far shorter).
    static let payloadBytesMax = 512

    /// What is kept of a record besides its payload's bytes.
    private struct Held {
        var sequence: UInt64 = 0
        var time: Int64 = 0
        var length = 0
        /// The record's lease hash (`Projection.leaseHash`), nil when its payload has none.
        var hash: UInt32?
    }

    private var payloads = [UInt8](repeating: 0, count: LookaheadFold.depth * LookaheadFold.payloadBytesMax)
    private var records = [Held](repeating: Held(), count: LookaheadFold.depth)
    /// The ring position of the oldest record held, and how many are held.
    private var oldest = 0
    private var held = 0

    /// Takes the next record read; folds the oldest held first when the ring is full. Throws
    /// `EventDecodingError` when a payload folded does not decode (the records before it are
    /// folded, it and those after are not).
    mutating func take(
        sequence: UInt64, time: Int64, payload: UnsafeRawBufferPointer, into projection: inout Projection
    ) throws(EventDecodingError) {
        guard payload.count <= Self.payloadBytesMax else {
            try flush(into: &projection)
            let view = try EventCodec.view(payload, sequence: sequence)
            projection.apply(view, sequence: sequence, time: time)
            return
        }
        if held == Self.depth { try foldOldest(into: &projection) }
        let position = (oldest + held) & (Self.depth - 1)
        payloads.withUnsafeMutableBytes { storage in
            if let source = payload.baseAddress, let target = storage.baseAddress {
                (target + position * Self.payloadBytesMax).copyMemory(from: source, byteCount: payload.count)
            }
        }
        records[position] = Held(
            sequence: sequence, time: time, length: payload.count, hash: Projection.leaseHash(payload: payload))
        held += 1
        projection.prefetchLeases(
            slot: hash(ahead: held - 1),
            entry: hash(ahead: held - 1 - Self.depth / 2),
            key: hash(ahead: held - 1 - 3 * Self.depth / 4))
    }

    /// Folds every record held, oldest first.
    mutating func flush(into projection: inout Projection) throws(EventDecodingError) {
        while held > 0 { try foldOldest(into: &projection) }
    }

    private mutating func foldOldest(into projection: inout Projection) throws(EventDecodingError) {
        let record = records[oldest]
        let start = oldest * Self.payloadBytesMax
        let decoded = payloads.withUnsafeBytes { storage in
            Result { () throws(EventDecodingError) in
                let view = try EventCodec.view(
                    UnsafeRawBufferPointer(rebasing: storage[start..<(start + record.length)]), sequence: record.sequence)
                _ = projection.apply(view, sequence: record.sequence, time: record.time, leaseHash: record.hash)
            }
        }
        try decoded.get()
        oldest = (oldest + 1) & (Self.depth - 1)
        held -= 1
    }

    /// The lease hash of the record `ahead` places after the oldest held, if it has one.
    @inline(__always)
    private func hash(ahead: Int) -> UInt32? {
        ahead >= 0 ? records[(oldest + ahead) & (Self.depth - 1)].hash : nil
    }
}
