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
        try forEach(body, whileValid: {})
    }

    /// `forEach(_:)`, then (unless `body` threw) calls `end` while every payload passed is still
    /// valid: a caller that holds payloads back (not copied) finishes with them there.
    @discardableResult
    public func forEach(
        _ body: (_ sequence: UInt64, _ timestampMicroseconds: Int64, _ payload: UnsafeRawBufferPointer) throws -> Bool,
        whileValid end: () throws -> Void
    ) rethrows -> Bool {
        var records = iterator
        return try iterator.batch.plain.withUnsafeBytes { bytes in
            var more = true
            while let record = records.next(in: bytes) {
                if record.sequence < fromSequence || record.timestampMicroseconds < fromTimestamp { continue }
                let payload = UnsafeRawBufferPointer(rebasing: bytes[record.range])
                guard try body(record.sequence, record.timestampMicroseconds, payload) else {
                    more = false
                    break
                }
            }
            try end()
            return more
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

    // The writer's order makes the reader's checks sound: it creates a segment empty, writes its
    // header, appends whole frames, writes and syncs the seal frame, and only then creates the
    // next segment. Retention removes sealed segments oldest first, never the newest. So a short
    // header, a short frame or the end of the bytes is a write in progress unless the segment is
    // complete, and once a later segment is listed every byte of this one is written. Each check
    // therefore looks for a later segment or a seal first and then reads again: reading first
    // and looking after races a writer that finishes the segment in between.

    /// Opens the segment holding `nextSequence`; false when it does not exist (yet).
    private func openSegment() throws -> Bool {
        while true {
            let listed = nextSequence == nil
            guard let sequence = try nextSequence ?? firstListedSequence() else { return false }
            let name = SegmentFormat.fileName(firstSequence: sequence)
            let path = directory + "/" + name
            guard let opened = try SegmentFileReader.openIfPresent(path: path) else {
                // The first listed segment was removed by retention after the listing: list again.
                if listed { continue }
                guard try continueAfterMissing(sequence: sequence, path: path) else { return false }
                continue
            }
            guard let header = try readHeader(of: opened, sequence: sequence, path: path) else { return false }
            guard header.firstSequence == sequence else {
                throw EventLogError.corruptSegment(
                    file: path, offset: 16, sequence: sequence,
                    reason: "header says first sequence \(header.firstSequence)")
            }
            nextSequence = sequence
            decoder.reset()
            file = opened
            fileName = name
            walker = FrameWalker(file: opened)
            return true
        }
    }

    private func firstListedSequence() throws -> UInt64? {
        try LogDirectory.segmentNames(directory).first.flatMap { SegmentFormat.firstSequence(fileName: $0) }
    }

    /// No segment starts at `sequence`: true to try opening again (it was created meanwhile, or
    /// `nextSequence` moved past segments retention removed before this cursor's start), false
    /// when it is not written yet. Throws when records this cursor needs are gone.
    private func continueAfterMissing(sequence: UInt64, path: String) throws -> Bool {
        let firsts = try LogDirectory.segmentNames(directory).compactMap { SegmentFormat.firstSequence(fileName: $0) }
        if firsts.contains(sequence) { return true }
        guard let later = firsts.first(where: { $0 > sequence }) else { return false }
        if let earlier = firsts.first, earlier < sequence {
            throw EventLogError.corruptSegment(
                file: path, offset: 0, sequence: sequence,
                reason: "missing segment: the log continues with \(SegmentFormat.fileName(firstSequence: later))")
        }
        // Every segment left starts after `sequence`: retention removed the oldest ones.
        if later - 1 < fromSequence {
            nextSequence = later
            return true
        }
        throw EventLogError.removedByRetention(neededSequence: max(sequence, fromSequence), firstSequence: later)
    }

    /// The header of a just opened segment; nil while the writer is still writing it.
    private func readHeader(of opened: SegmentFileReader, sequence: UInt64, path: String) throws -> SegmentHeader? {
        var result = try opened.readHeaderIfWhole()
        if result == nil {
            guard try laterSegment(than: sequence) != nil else { return nil }
            result = try opened.readHeaderIfWhole()
        }
        switch result {
        case .success(let header)?: return header
        case .failure(let failure)?:
            throw EventLogError.corruptSegment(file: path, offset: 0, sequence: sequence, reason: failure.reason)
        case nil:
            throw EventLogError.corruptSegment(
                file: path, offset: 0, sequence: sequence,
                reason: "header has \(try opened.size()) of \(SegmentFormat.headerBytes) bytes, "
                    + "and a later segment exists")
        }
    }

    /// Reads one frame of the open segment; false at the end of what is written so far.
    private func readFrame() throws -> Bool {
        guard var walker, let file, let sequence = nextSequence else { return false }
        let offset = walker.offset
        var step = try walker.next()
        if !step.isFrame {
            guard try segmentIsComplete(file, sequence: sequence) else { return false }
            // Complete now: what was short or missing a moment ago must read whole.
            file.discardBuffer()
            walker.offset = offset
            step = try walker.next()
        }
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
            if frame.kind == .tally {
                // Counts for tools reading headers only (checked by verify and at the writer's open).
                guard frame.firstSequence == sequence - 1 else {
                    throw damage(offset, "tally frame names last sequence \(frame.firstSequence)")
                }
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
        case .end: throw damage(offset, "segment ends without a seal frame")
        case .torn(let reason), .damaged(let reason): throw damage(offset, reason)
        }
    }

    /// True when every byte of the open segment is written: a later segment exists (looked for
    /// first), or the file ends with a seal frame.
    private func segmentIsComplete(_ file: SegmentFileReader, sequence: UInt64) throws -> Bool {
        if try laterSegment(than: sequence) != nil { return true }
        return try file.readSeal() != nil
    }

    private func damage(_ offset: Int, _ reason: String) -> EventLogError {
        .corruptSegment(file: directory + "/" + fileName, offset: offset, sequence: nextSequence, reason: reason)
    }

    /// The first segment after the one holding `sequence`, if any.
    private func laterSegment(than sequence: UInt64) throws -> String? {
        try LogDirectory.segmentNames(directory).first { (SegmentFormat.firstSequence(fileName: $0) ?? 0) > sequence }
    }
}
