/// Iterates records in sequence order. `next()` returns nil at the last whole commit;
/// calling it again later returns records appended since. Copies share one position.
public struct LogCursor: Sendable {
    let state: CursorState

    /// The next record, nil when none is whole yet. Throws `.corruptSegment` on damage in a
    /// sealed segment (a torn or half-written tail of the newest segment just reads as the end).
    public mutating func next() throws -> LogRecord? {
        try state.next()
    }

    /// The records of the next decoded frame (the rest of it after `next()` calls) as one batch,
    /// read in place without copying each payload; nil when none is whole yet. Same checks and
    /// errors as `next()`.
    public mutating func nextBatch() throws -> RecordBatch? {
        try state.nextBatch()
    }
}

/// The records of one decoded frame, iterated in place: each payload is a view into the frame's
/// decompressed bytes, valid only inside the `forEach` body.
public struct RecordBatch: Sendable {
    var iterator: BatchIterator
    let fromSequence: UInt64
    let fromTimestamp: Int64

    /// Records in the batch (those before the cursor's start included).
    public var recordCount: Int { iterator.batch.recordCount }
    /// The sequence of the batch's last record.
    public var lastSequence: UInt64 { iterator.batch.lastSequence }
    /// The timestamp of the batch's last record.
    public var lastTimestampMicroseconds: Int64 { iterator.batch.lastTimestampMicroseconds }

    /// Calls `body` with each record's sequence, timestamp and payload, in order, until it
    /// returns false; returns false when it was stopped.
    @discardableResult
    public func forEach(
        _ body: (_ sequence: UInt64, _ timestampMicroseconds: Int64, _ payload: UnsafeRawBufferPointer) throws -> Bool
    ) rethrows -> Bool {
        var records = iterator
        return try iterator.batch.plain.withUnsafeBytes { bytes in
            while let record = records.next(in: bytes) {
                if record.sequence < fromSequence || record.timestampMicroseconds < fromTimestamp { continue }
                let payload = UnsafeRawBufferPointer(rebasing: bytes[record.range])
                guard try body(record.sequence, record.timestampMicroseconds, payload) else { return false }
            }
            return true
        }
    }
}

/// A cursor's position: the open segment, its decoder, and the batch being iterated.
final class CursorState: @unchecked Sendable {
    let directory: String
    let fromSequence: UInt64
    let fromTimestamp: Int64
    /// The sequence the log yields next; nil until a first segment exists.
    private var nextSequence: UInt64?
    private var file: SegmentFileReader?
    private var walker: FrameWalker?
    private var fileName = ""
    private let decoder = BatchDecoder()
    private var iterator: BatchIterator?

    init(directory: String, fromSequence: UInt64, fromTimestamp: Int64, nextSequence: UInt64?) {
        self.directory = directory
        self.fromSequence = fromSequence
        self.fromTimestamp = fromTimestamp
        self.nextSequence = nextSequence
    }

    func next() throws -> LogRecord? {
        while true {
            while let record = iterator?.next() {
                if record.sequence < fromSequence || record.timestampMicroseconds < fromTimestamp { continue }
                let payload = Array(iterator!.batch.plain[record.range])
                return LogRecord(
                    sequence: record.sequence, timestampMicroseconds: record.timestampMicroseconds, payload: payload)
            }
            iterator = nil
            if walker == nil {
                guard try openSegment() else { return nil }
            }
            guard try readFrame() else { return nil }
        }
    }

    func nextBatch() throws -> RecordBatch? {
        while true {
            if let pending = iterator, pending.hasNext {
                iterator = nil
                return RecordBatch(iterator: pending, fromSequence: fromSequence, fromTimestamp: fromTimestamp)
            }
            iterator = nil
            if walker == nil {
                guard try openSegment() else { return nil }
            }
            guard try readFrame() else { return nil }
        }
    }

    /// Opens the segment holding `nextSequence`; false when it does not exist (yet).
    private func openSegment() throws -> Bool {
        if nextSequence == nil {
            guard let first = try LogDirectory.segmentNames(directory).first else { return false }
            nextSequence = SegmentFormat.firstSequence(fileName: first)
        }
        guard let sequence = nextSequence else { return false }
        let name = SegmentFormat.fileName(firstSequence: sequence)
        let path = directory + "/" + name
        guard FileIO.exists(path) else {
            if let later = try laterSegment(than: sequence) {
                throw EventLogError.corruptSegment(
                    file: path, offset: 0, sequence: sequence,
                    reason: "missing segment: the log continues with \(later)")
            }
            return false
        }
        let opened = try SegmentFileReader(path: path)
        switch try opened.readHeader() {
        case .failure(let failure):
            if try opened.size() < SegmentFormat.headerBytes, try laterSegment(than: sequence) == nil { return false }
            throw EventLogError.corruptSegment(file: path, offset: 0, sequence: sequence, reason: failure.reason)
        case .success(let header):
            guard header.firstSequence == sequence else {
                throw EventLogError.corruptSegment(
                    file: path, offset: 16, sequence: sequence,
                    reason: "header says first sequence \(header.firstSequence)")
            }
        }
        decoder.reset()
        file = opened
        fileName = name
        walker = FrameWalker(file: opened)
        return true
    }

    /// Reads one frame of the open segment; false at the end of what is written so far.
    private func readFrame() throws -> Bool {
        guard var walker, let file, let sequence = nextSequence else { return false }
        let offset = walker.offset
        let step = try walker.next()
        self.walker = walker
        switch step {
        case .frame(let frame, let payload):
            if frame.kind == .seal {
                guard frame.firstSequence == sequence - 1 else {
                    throw damage(offset, "seal frame names last sequence \(frame.firstSequence)")
                }
                self.walker = nil
                self.file = nil
                return true
            }
            guard frame.firstSequence == sequence else {
                throw damage(offset, "frame starts at sequence \(frame.firstSequence), expected \(sequence)")
            }
            nextSequence = sequence + UInt64(frame.recordCount)
            if frame.kind == .denseBlock && sequence + UInt64(frame.recordCount) <= fromSequence { return true }
            switch decoder.decode(frame, payload: payload) {
            case .failure(let failure): throw damage(offset, failure.reason)
            case .success(let batch): iterator = BatchIterator(batch)
            }
            return true
        case .end:
            if try file.readSeal() != nil {
                // The writer sealed the segment after the read above: read its seal frame next.
                return true
            }
            if try laterSegment(than: sequence) != nil { throw damage(offset, "segment ends without a seal frame") }
            return false
        case .torn(let reason), .damaged(let reason):
            if try file.readSeal() != nil || laterSegment(than: sequence) != nil { throw damage(offset, reason) }
            return false
        }
    }

    private func damage(_ offset: Int, _ reason: String) -> EventLogError {
        .corruptSegment(file: directory + "/" + fileName, offset: offset, sequence: nextSequence, reason: reason)
    }

    /// The first segment after the one holding `sequence`, if any.
    private func laterSegment(than sequence: UInt64) throws -> String? {
        try LogDirectory.segmentNames(directory).first { (SegmentFormat.firstSequence(fileName: $0) ?? 0) > sequence }
    }
}
