import Registry

/// A piece's fold: records before its tracking start only move the projection, then sessions
/// are tracked (the leases live then continue). Records pass through a `LookaheadRing` first, so
/// the lease each one touches is being loaded while the ones before fold. The ring borrows the
/// payloads (no copy): the caller calls `flush` before the batch they come from goes.
struct PieceFold {
    var tracker: SessionTracker
    var tracking = false
    let piece: SessionPiece
    let name: String?
    let nameBytes: [UInt8]?
    private var ring = LookaheadRing()
    /// The process's hash key, read once for the ring (`LookaheadRing.hold(sequence:time:borrowing:hashKey:)`).
    private let hashKey = ServiceHashKey.process

    init(piece: SessionPiece, name: String?, projection: Projection) {
        tracker = SessionTracker(projection: projection)
        self.piece = piece
        self.name = name
        nameBytes = name.map { Array($0.utf8) }
    }

    /// Takes the next record of the log, whose payload stays valid until the next `flush`; it is
    /// folded a few records later (or by `flush`).
    mutating func take(sequence: UInt64, time: Int64, payload: UnsafeRawBufferPointer) throws {
        if ring.isFull { try foldOldest() }
        ring.hold(sequence: sequence, time: time, borrowing: payload, hashKey: hashKey)
        tracker.prefetch(ring)
    }

    /// Folds every record held.
    mutating func flush() throws {
        while ring.held > 0 { try foldOldest() }
    }

    private mutating func foldOldest() throws {
        let record = ring.oldestRecord
        // The ring's payload is read while the tracker changes (disjoint parts of the fold).
        try fold(record.sequence, record.time, ring.oldestPayload, leaseHash: record.hash)
        ring.dropOldest()
    }

    @inline(__always)
    private mutating func fold(
        _ sequence: UInt64, _ time: Int64, _ payload: UnsafeRawBufferPointer, leaseHash: UInt32? = nil
    ) throws {
        if let failure = Self.fold(
            sequence,
            time,
            payload,
            leaseHash: leaseHash,
            into: &tracker,
            tracking: &tracking,
            piece: piece,
            name: name,
            nameBytes: nameBytes
        ) {
            throw failure
        }
    }

    /// Folds one record; returns why its payload did not decode, if it did not.
    @inline(__always)
    private static func fold(
        _ sequence: UInt64,
        _ time: Int64,
        _ payload: UnsafeRawBufferPointer,
        leaseHash: UInt32?,
        into tracker: inout SessionTracker,
        tracking: inout Bool,
        piece: SessionPiece,
        name: String?,
        nameBytes: [UInt8]?
    ) -> EventDecodingError? {
        let view: EventPayloadView
        do {
            view = try EventCodec.view(payload, sequence: sequence)
        } catch {
            return error
        }
        if let nameBytes, view.kind.isServiceEvent, !EventViewFilter.equal(view.name, nameBytes) { return nil }
        if !tracking {
            guard sequence >= piece.trackFromSequence, time >= piece.trackFromTime ?? .min else {
                tracker.foldOnly(view, sequence: sequence, time: time, leaseHash: leaseHash)
                return nil
            }
            tracker.continueLiveLeases(name: name, partition: nil)
            tracking = true
        }
        tracker.fold(view, sequence: sequence, time: time, leaseHash: leaseHash)
        return nil
    }
}
