import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Rewrites a sealed stream-form segment densely: large blocks, each an independent zstd frame at
/// a high level. Writes `NAME.tmp`, syncs it, reads it back and compares every record's digest,
/// then renames it over the original and syncs the directory.
struct DenseRewriter {
    let directory: String
    let level: Int
    let blockBytes: Int
    /// When set, the copy gets a tally frame and format version 2.
    var tally: RecordTally? = nil

    /// What a rewrite produced.
    struct Outcome: Sendable {
        var bytesBefore: Int
        var bytesAfter: Int
        var records: Int
    }

    /// Rewrites `fileName`; nil when it is already dense.
    func rewrite(fileName: String) throws -> Outcome? {
        let path = directory + "/" + fileName
        // Retention may have removed the segment since it was queued: nothing to rewrite then.
        guard FileIO.exists(path) else { return nil }
        if case .success(let existing) = try SegmentFileReader(path: path).readHeader(), existing.form == .dense {
            return nil
        }
        let tmpName = fileName + ".tmp"
        let tmpPath = directory + "/" + tmpName
        let fd = try FileIO.openFile(tmpPath, flags: O_RDWR | O_CREAT | O_TRUNC, operation: "create dense segment")
        var renamed = false
        defer {
            FileIO.closeFile(fd)
            if !renamed { try? FileIO.unlinkFile(tmpPath) }
        }
        var writer = BlockWriter(
            fd: fd, path: tmpPath, compressor: BlockCompressor(level: level), blockBytes: blockBytes)
        var sourceDigest = RecordDigest()
        var sourceCounts = tally.map { TallyCounter($0) }
        let source = try SegmentScanner.scan(directory: directory, fileName: fileName) { batch in
            sourceDigest.add(batch)
            sourceCounts?.add(batch)
            try writer.add(batch)
        }
        guard let header = source.header, header.form == .stream else { return nil }
        if let problem = source.problem {
            throw EventLogError.corruptSegment(
                file: path, offset: problem.offset, sequence: problem.sequence, reason: problem.reason)
        }
        guard let seal = source.seal else {
            throw EventLogError.corruptSegment(
                file: path, offset: source.fileBytes, sequence: nil,
                reason: "cannot rewrite a segment without a seal frame")
        }
        try writer.flush()
        try writer.finish(source: header, seal: seal, tally: sourceCounts?.tally)
        try FileIO.syncData(fd, path: tmpPath)

        var copyDigest = RecordDigest()
        var copyCounts = tally.map { TallyCounter($0) }
        let copy = try SegmentScanner.scan(
            directory: directory, fileName: tmpName, declaredFirstSequence: header.firstSequence
        ) { batch in
            copyDigest.add(batch)
            copyCounts?.add(batch)
        }
        let tallyProblem =
            copy.tally == sourceCounts?.tally && copy.tally == copyCounts?.tally
            ? nil : "tally frame differs from the records' counts"
        guard copy.problem == nil, copy.seal == seal, copyDigest == sourceDigest, tallyProblem == nil else {
            throw EventLogError.corruptSegment(
                file: tmpPath, offset: copy.problem?.offset ?? 0, sequence: copy.problem?.sequence,
                reason: "dense copy does not read back identical "
                    + "(\(copy.problem?.reason ?? tallyProblem ?? "digest differs")); "
                    + "the stream-form original is kept")
        }
        try FileIO.renameFile(tmpPath, to: path)
        renamed = true
        try FileIO.syncDirectory(directory)
        return Outcome(bytesBefore: source.fileBytes, bytesAfter: copy.fileBytes, records: source.recordCount)
    }
}

/// Accumulates decoded commits into dense blocks and writes them.
struct BlockWriter {
    let fd: Int32
    let path: String
    let compressor: BlockCompressor
    let blockBytes: Int
    private var offset = SegmentFormat.headerBytes
    private var commits: [CommitEntry] = []
    private var records: [UInt8] = []
    private var firstSequence: UInt64 = 0
    private var recordCount = 0

    init(fd: Int32, path: String, compressor: BlockCompressor, blockBytes: Int) {
        self.fd = fd
        self.path = path
        self.compressor = compressor
        self.blockBytes = blockBytes
    }

    mutating func add(_ batch: DecodedBatch) throws {
        let recordBytes = batch.plain.count - batch.recordsStart
        if !commits.isEmpty && records.count + recordBytes > blockBytes { try flush() }
        if commits.isEmpty { firstSequence = batch.firstSequence }
        commits.append(contentsOf: batch.commits)
        records.append(contentsOf: batch.plain[batch.recordsStart...])
        recordCount += batch.recordCount
    }

    /// Compresses and writes the pending commits as one block.
    mutating func flush() throws {
        guard let first = commits.first else { return }
        let plain = RecordLayout.denseBlock(commits: commits, records: records)
        let compressed: [UInt8]
        switch compressor.compress(plain) {
        case .failure(let failure): throw EventLogError.io(operation: failure.reason, path: path, errno: 0)
        case .success(let bytes): compressed = bytes
        }
        let header = FrameHeader(
            kind: .denseBlock, startsZstdFrame: true, columnarTable: true, payloadBytes: compressed.count, plainBytes: plain.count,
            recordCount: recordCount, firstSequence: firstSequence, timestampMicroseconds: first.timestampMicroseconds,
            payloadChecksum: CRC32C.checksum(compressed))
        var frame = [UInt8](repeating: 0, count: SegmentFormat.frameHeaderBytes)
        header.store(into: &frame, at: 0)
        frame.append(contentsOf: compressed)
        try FileIO.write(fd, frame, at: offset, path: path)
        offset += frame.count
        commits.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        recordCount = 0
    }

    /// Writes the tally frame (when counted), the seal frame and the dense header that repeats
    /// the seal's figures.
    mutating func finish(source: SegmentHeader, seal: SealInfo, tally: SegmentTally?) throws {
        precondition(commits.isEmpty, "finish with \(commits.count) commits unflushed")
        if let tally {
            let frame = TallyFrame.encoded(
                tally, lastSequence: seal.lastSequence, lastTimestampMicroseconds: seal.lastTimestampMicroseconds)
            try FileIO.write(fd, frame, at: offset, path: path)
            offset += frame.count
        }
        try FileIO.write(fd, seal.encodedFrame(), at: offset, path: path)
        offset += SegmentFormat.sealFrameBytes
        let header = SegmentHeader(
            form: .dense, firstSequence: source.firstSequence, createdMicroseconds: source.createdMicroseconds,
            lastSequence: seal.lastSequence, firstTimestampMicroseconds: seal.firstTimestampMicroseconds,
            lastTimestampMicroseconds: seal.lastTimestampMicroseconds, commitCount: UInt32(clamping: seal.commitCount),
            hasTally: tally != nil)
        try FileIO.write(fd, header.encoded(), at: 0, path: path)
    }
}

/// Counts records by `RecordTally` slot.
struct TallyCounter {
    let recordTally: RecordTally
    var counts = [UInt64](repeating: 0, count: RecordTally.slotCount)

    init(_ recordTally: RecordTally) {
        self.recordTally = recordTally
    }

    var tally: SegmentTally { SegmentTally(scheme: recordTally.scheme, counts: counts) }

    mutating func add(_ batch: DecodedBatch) {
        var iterator = BatchIterator(batch)
        batch.plain.withUnsafeBytes { bytes in
            while let record = iterator.next(in: bytes) {
                counts[recordTally.slot(UnsafeRawBufferPointer(rebasing: bytes[record.range]))] += 1
            }
        }
    }
}

/// A CRC32C over every record's sequence, timestamp and bytes, to compare two copies of a segment.
struct RecordDigest: Equatable {
    var checksum: UInt32 = 0
    var records = 0

    mutating func add(_ batch: DecodedBatch) {
        var iterator = BatchIterator(batch)
        while let record = iterator.next() {
            var head = (
                record.sequence.littleEndian, record.timestampMicroseconds.littleEndian, UInt64(record.range.count)
            )
            checksum = withUnsafeBytes(of: &head) { CRC32C.checksum($0, continuing: checksum) }
            checksum = batch.plain.withUnsafeBytes {
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[record.range]), continuing: checksum)
            }
            records += 1
        }
    }
}
