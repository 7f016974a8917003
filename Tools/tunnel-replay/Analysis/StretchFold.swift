import FileStore
import Registry

/// One stretch of `verify`'s snapshot checks (`SnapshotIntervals`): the records folded in log
/// order, each sequence checked to follow the one before, each snapshot inside the stretch
/// compared when the fold passes it. Records pass through a `LookaheadRing` first, so the lease
/// each one renews is being loaded while the ones before fold.
struct StretchFold {
    var projection: Projection
    var outcome = SnapshotIntervals.Outcome()
    /// The sequence the next record must have.
    private(set) var expected: UInt64
    /// A record was missing or did not decode: later snapshots cannot be compared.
    private(set) var broken = false
    private var comparer = SnapshotComparer()
    /// Reads the snapshots compared (with memory kept from stretch to stretch, `finish`).
    private let reader: SnapshotBodyReader
    private var ring = LookaheadRing()
    /// Records before this are folded but not counted (they lead from the start snapshot).
    private let firstCounted: UInt64
    /// The snapshots inside the stretch, ascending, and the next one not yet passed.
    private let inside: [UInt64]
    private var nextInside = 0
    private let store: SnapshotStore
    private let directory: DataDirectory

    /// `kinds` counts the records of the stretch by segment and kind, for `TallyCheck`.
    init(
        projection: Projection, firstCounted: UInt64, inside: [UInt64], store: SnapshotStore,
        directory: DataDirectory, reader: SnapshotBodyReader, kinds: SegmentKindCounts = .init(lastSequences: [])
    ) {
        outcome.kinds = kinds
        self.reader = reader
        self.projection = projection
        self.expected = projection.lastSequence + 1
        self.firstCounted = firstCounted
        self.inside = inside
        self.store = store
        self.directory = directory
    }

    /// Takes the next record of the log; it is folded a few records later (or by `flush`).
    mutating func take(sequence: UInt64, time: Int64, payload: UnsafeRawBufferPointer) {
        guard payload.count <= LookaheadRing.payloadBytesMax else {
            flush()
            fold(sequence, time, payload)
            return
        }
        if ring.isFull { foldOldest() }
        ring.hold(sequence: sequence, time: time, payload: payload)
        ring.prefetch(into: &projection)
    }

    /// Folds every record held.
    mutating func flush() {
        while ring.held > 0 { foldOldest() }
    }

    /// Compares the snapshot at `sequence` (the stretch's end) with the fold, all records folded.
    mutating func compareSnapshot(at sequence: UInt64) {
        outcome.problems += SnapshotIntervals.compareSnapshot(
            sequence, &projection, comparer: &comparer, reader: reader, store: store, directory: directory)
    }

    /// Hands the comparer's arrays to the reader, for the next stretch it reads for.
    mutating func finish() {
        for buffer in comparer.takeBuffers() { reader.keep(buffer) }
    }

    /// Checks that `sequence` follows the previous record; counts it when inside the stretch.
    @discardableResult
    mutating func count(_ sequence: UInt64) -> Bool {
        if sequence != expected {
            outcome.problems.append(
                VerifyProblem(
                    file: "log", offset: nil, sequence: sequence,
                    problem: "sequence \(sequence) follows \(expected - 1): records are missing"))
            broken = true
        }
        expected = sequence + 1
        let counted = sequence >= firstCounted
        if counted { outcome.records += 1 }
        return counted
    }

    private mutating func foldOldest() {
        let record = ring.oldestRecord
        fold(record.sequence, record.time, ring.oldestPayload, leaseHash: record.hash)
        ring.dropOldest()
    }

    /// Folds one record, in log order, and compares the snapshot taken after it, if any.
    /// `leaseHash` is the ring's `Projection.leaseHash` of the payload (nil: the fold hashes).
    @inline(__always)
    private mutating func fold(
        _ sequence: UInt64, _ time: Int64, _ payload: UnsafeRawBufferPointer, leaseHash: UInt32? = nil
    ) {
        let counted = count(sequence)
        do {
            let view = try EventCodec.view(payload, sequence: sequence)
            if counted { outcome.kinds.count(sequence, slot: EventCodec.decodedTallySlot(payload)) }
            projection.apply(view, sequence: sequence, time: time, leaseHash: leaseHash)
        } catch {
            if counted {
                outcome.kinds.count(sequence, slot: EventCodec.tallySlot(payload))
                outcome.problems.append(
                    VerifyProblem(file: "log", offset: nil, sequence: sequence, problem: "\(error)"))
            }
            broken = true
        }
        while nextInside < inside.count, inside[nextInside] < sequence { nextInside += 1 }
        if nextInside < inside.count, inside[nextInside] == sequence {
            nextInside += 1
            if !broken { compareSnapshot(at: sequence) }
        }
    }
}
