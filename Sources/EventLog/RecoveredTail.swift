/// The newest segment's records from a chosen sequence on, as the writer's recovery decoded them
/// at open (`EventLogWriter.open(_:logger:retainingRecordsFrom:clock:)`). An unsealed segment is
/// one zstd stream from its start, so reading any record of it decodes every record before; the
/// first read after open (a restart folding the records after its snapshot) takes these instead
/// and the segment is decompressed once, not twice.
public struct RecoveredTail: Sendable {
    /// Decoded commits, oldest first; the last ends at the log's last whole record at open.
    let batches: [DecodedBatch]

    /// The first record held.
    public var firstSequence: UInt64 { batches.first?.firstSequence ?? 0 }
    /// The last record held: the log's last record when the writer opened.
    public var lastSequence: UInt64 { batches.last?.lastSequence ?? 0 }

    /// Calls `body` with each record held whose sequence is at least `sequence`, in order: its
    /// sequence, commit timestamp and payload (valid only during the call).
    public func forEach(
        fromSequence sequence: UInt64,
        _ body: (_ sequence: UInt64, _ timestampMicroseconds: Int64, _ payload: UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        for batch in batches where batch.lastSequence >= sequence {
            let records = RecordBatch(iterator: BatchIterator(batch), fromSequence: sequence, fromTimestamp: .min)
            try records.forEach { sequence, timestamp, payload in
                try body(sequence, timestamp, payload)
                return true
            }
        }
    }
}

/// Collects the batches recovery decodes that hold records at or after `fromSequence`, up to
/// `bytesMax` decoded bytes; past that it keeps none (a read then decodes the segment itself).
struct RecoveredTailCollector {
    /// Decoded bytes kept at most: a restart's records after its snapshot fit many times over.
    static let defaultBytesMax = 64 << 20

    let fromSequence: UInt64
    let bytesMax: Int
    private var batches: [DecodedBatch] = []
    private var bytes = 0
    private var overflowed = false

    init(fromSequence: UInt64, bytesMax: Int = RecoveredTailCollector.defaultBytesMax) {
        self.fromSequence = fromSequence
        self.bytesMax = bytesMax
    }

    mutating func take(_ batch: DecodedBatch) {
        guard !overflowed, batch.lastSequence >= fromSequence else { return }
        bytes += batch.plain.count
        guard bytes <= bytesMax else {
            overflowed = true
            batches = []
            return
        }
        batches.append(batch)
    }

    /// What was kept; nil when nothing was, or too much was offered.
    var tail: RecoveredTail? {
        batches.isEmpty ? nil : RecoveredTail(batches: batches)
    }
}
