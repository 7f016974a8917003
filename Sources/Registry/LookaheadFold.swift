/// Folds records into a projection a few places after they are read (`LookaheadRing`), so the
/// live lease each one touches is being loaded while the ones before it fold. A restart's replay
/// folded as read waited on each renew's three cache misses in turn (docs/ARCHITECTURE.md, "One
/// projection, two users"). The projection folded is the one the records give folded one by one:
/// only when each is folded changes.
struct LookaheadFold {
    private var ring = LookaheadRing()

    /// Takes the next record read; folds the oldest held first when the ring is full. Throws
    /// `EventDecodingError` when a payload folded does not decode (the records before it are
    /// folded, it and those after are not).
    mutating func take(
        sequence: UInt64, time: Int64, payload: UnsafeRawBufferPointer, into projection: inout Projection
    ) throws(EventDecodingError) {
        guard payload.count <= LookaheadRing.payloadBytesMax else {
            try flush(into: &projection)
            let view = try EventCodec.view(payload, sequence: sequence)
            projection.apply(view, sequence: sequence, time: time)
            return
        }
        if ring.isFull { try foldOldest(into: &projection) }
        ring.hold(sequence: sequence, time: time, payload: payload)
        ring.prefetch(into: &projection)
    }

    /// Folds every record held, oldest first.
    mutating func flush(into projection: inout Projection) throws(EventDecodingError) {
        while ring.held > 0 { try foldOldest(into: &projection) }
    }

    private mutating func foldOldest(into projection: inout Projection) throws(EventDecodingError) {
        let record = ring.oldestRecord
        let view = try EventCodec.view(ring.oldestPayload, sequence: record.sequence)
        projection.apply(view, sequence: record.sequence, time: record.time, leaseHash: record.hash)
        ring.dropOldest()
    }
}
