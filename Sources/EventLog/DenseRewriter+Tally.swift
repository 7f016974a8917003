#if canImport(Glibc)
import Glibc
#endif

extension DenseRewriter {
    /// Bytes copied per read and write when a segment's blocks are copied.
    static let copyChunkBytes = 4 << 20

    /// Gives a sealed version-1 dense segment (written without a tally) its tally frame
    /// (docs/FORMAT.md "Dense rewrite"): counts its records by decoding its blocks, copies the
    /// blocks byte for byte (no recompression) to `NAME.tmp` followed by the tally frame, the same
    /// seal frame and the header with version 2, syncs it, reads it back (no problem, same seal,
    /// same record digest, the tally equal to the counts, the blocks' bytes equal), then renames it
    /// over the original and syncs the directory.
    ///
    /// Returns nil when no tally is configured, the file is gone (retention), or it is not a
    /// version-1 dense segment. Throws, leaving the original as it is, when the segment is damaged
    /// or the copy does not read back identical.
    func addTally(fileName: String) throws -> Outcome? {
        guard let tally else { return nil }
        let path = directory + "/" + fileName
        guard FileIO.exists(path) else { return nil }
        switch try SegmentFileReader(path: path).readHeader() {
        case .failure(let failure):
            throw EventLogError.corruptSegment(file: path, offset: 0, sequence: nil, reason: failure.reason)
        case .success(let existing):
            guard existing.form == .dense, !existing.hasTally else { return nil }
        }

        var sourceDigest = RecordDigest()
        var counter = TallyCounter(tally)
        let source = try SegmentScanner.scan(directory: directory, fileName: fileName) { batch in
            sourceDigest.add(batch)
            counter.add(batch)
        }
        guard let header = source.header, header.form == .dense, !header.hasTally else { return nil }
        if let problem = source.problem {
            throw EventLogError.corruptSegment(
                file: path, offset: problem.offset, sequence: problem.sequence, reason: problem.reason)
        }
        guard let seal = source.seal, source.validBytes == source.fileBytes else {
            throw EventLogError.corruptSegment(
                file: path, offset: source.validBytes, sequence: nil,
                reason: "cannot add a tally to a segment that does not end with its seal frame")
        }
        let counts = counter.tally
        let sealOffset = source.fileBytes - SegmentFormat.sealFrameBytes

        let tmpName = fileName + ".tmp"
        let tmpPath = directory + "/" + tmpName
        let input = try FileIO.openFile(path, flags: O_RDONLY, operation: "open dense segment")
        defer { FileIO.closeFile(input) }
        let output = try FileIO.openFile(
            tmpPath, flags: O_RDWR | O_CREAT | O_TRUNC, operation: "create tallied segment")
        var renamed = false
        defer {
            FileIO.closeFile(output)
            if !renamed { try? FileIO.unlinkFile(tmpPath) }
        }
        let sourceBlocks = try Self.checksum(
            input, path, range: SegmentFormat.headerBytes..<sealOffset, copyingTo: (output, tmpPath))
        let sealBytes = try Self.read(input, path, range: sealOffset..<source.fileBytes)
        var tallied = header
        tallied.hasTally = true
        try FileIO.write(
            output,
            TallyFrame.encoded(
                counts, lastSequence: seal.lastSequence, lastTimestampMicroseconds: seal.lastTimestampMicroseconds),
            at: sealOffset, path: tmpPath)
        try FileIO.write(output, sealBytes, at: sealOffset + TallyFrame.frameBytes, path: tmpPath)
        try FileIO.write(output, tallied.encoded(), at: 0, path: tmpPath)
        try FileIO.syncData(output, path: tmpPath)

        var copyDigest = RecordDigest()
        var copyCounter = TallyCounter(tally)
        let copy = try SegmentScanner.scan(
            directory: directory, fileName: tmpName, declaredFirstSequence: header.firstSequence
        ) { batch in
            copyDigest.add(batch)
            copyCounter.add(batch)
        }
        let copyBlocks = try Self.checksum(output, tmpPath, range: SegmentFormat.headerBytes..<sealOffset)
        let mismatch: String? =
            if let problem = copy.problem { problem.reason }
            else if copy.header?.hasTally != true { "the copy's header is not version 2" }
            else if copy.seal != seal { "the seal differs" }
            else if copyDigest != sourceDigest { "the record digest differs" }
            else if copy.tally != counts || copyCounter.tally != counts { "the tally frame differs from the counts" }
            else if copyBlocks != sourceBlocks { "the blocks' bytes differ" }
            else { nil }
        if let mismatch {
            throw EventLogError.corruptSegment(
                file: tmpPath, offset: copy.problem?.offset ?? 0, sequence: copy.problem?.sequence,
                reason: "tallied copy does not read back identical (\(mismatch)); the version-1 original is kept")
        }
        try FileIO.renameFile(tmpPath, to: path)
        renamed = true
        try FileIO.syncDirectory(directory)
        return Outcome(bytesBefore: source.fileBytes, bytesAfter: copy.fileBytes, records: source.recordCount)
    }

    /// The CRC32C of `range` of `input`, read in chunks, each also written to the same offsets of
    /// `output` when one is given (the copy of the blocks; without it, their read-back).
    private static func checksum(
        _ input: Int32, _ inputPath: String, range: Range<Int>, copyingTo output: (fd: Int32, path: String)? = nil
    ) throws -> UInt32 {
        var buffer = [UInt8](repeating: 0, count: min(copyChunkBytes, range.count))
        var checksum: UInt32 = 0
        var offset = range.lowerBound
        while offset < range.upperBound {
            let count = min(buffer.count, range.upperBound - offset)
            try buffer.withUnsafeMutableBytes { bytes in
                let chunk = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<count])
                guard try FileIO.read(input, into: chunk, at: offset, path: inputPath) == count else {
                    throw EventLogError.io(operation: "read (file shorter than its scan)", path: inputPath, errno: 0)
                }
                if let output {
                    try FileIO.write(output.fd, UnsafeRawBufferPointer(chunk), at: offset, path: output.path)
                }
                checksum = CRC32C.checksum(UnsafeRawBufferPointer(chunk), continuing: checksum)
            }
            offset += count
        }
        return checksum
    }

    /// The bytes of `range` of `fd`.
    private static func read(_ fd: Int32, _ path: String, range: Range<Int>) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        let read = try bytes.withUnsafeMutableBytes { try FileIO.read(fd, into: $0, at: range.lowerBound, path: path) }
        guard read == range.count else {
            throw EventLogError.io(operation: "read seal frame (file is short)", path: path, errno: 0)
        }
        return bytes
    }
}
