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
        let sealOffset = source.fileBytes - SegmentFormat.sealFrameBytes
        return try writeTallied(
            fileName: fileName,
            source: TalliedSource(
                header: header, seal: seal, blocksEnd: sealOffset, fileBytes: source.fileBytes, digest: sourceDigest,
                counts: counter.tally, records: source.recordCount),
            tally: tally, original: "the version-1 original is kept", keepingOriginalAs: nil)
    }

    /// Rebuilds the tally frame of a sealed version-2 dense segment whose only damage is in its
    /// tally frame (damaged, cut short or missing, or checking but counting the records otherwise
    /// than the configured tally; docs/FORMAT.md "Repair"), like the tally pass:
    /// the same header and blocks byte for byte, a fresh tally frame, the same seal frame, read
    /// back before it replaces the original, which stays as `keepingOriginalAs` (a hard link made
    /// just before the rename).
    ///
    /// Returns nil, changing nothing, when `tallyRebuildSource(fileName:expectedFirstSequence:)` finds it is not such a
    /// segment: the caller cuts there instead.
    func rebuildTally(
        fileName: String, expectedFirstSequence: UInt64?, keepingOriginalAs broken: String
    ) throws -> Outcome? {
        guard let tally,
            let source = try tallyRebuildSource(fileName: fileName, expectedFirstSequence: expectedFirstSequence)
        else { return nil }
        return try writeTallied(
            fileName: fileName, source: source, tally: tally, original: "the damaged original is kept",
            keepingOriginalAs: broken)
    }

    /// The parts of `fileName` its tally is rebuilt from, nil when no tally is configured or the
    /// segment's damage is not confined to its tally frame: its blocks and seal must pass every
    /// check of a scan (`SegmentScanner` passing the tally's damage), and a damaged frame whose
    /// header still checks must name the configured scheme; a frame that checks must name the
    /// configured scheme and count otherwise than the records (one that agrees, or names another
    /// scheme, is no damage); with `expectedFirstSequence`, the segment must start there. Reads,
    /// changes nothing.
    func tallyRebuildSource(fileName: String, expectedFirstSequence: UInt64?) throws -> TalliedSource? {
        guard let tally else { return nil }
        var digest = RecordDigest()
        var counter = TallyCounter(tally)
        let scan = try SegmentScanner.scan(
            directory: directory, fileName: fileName, expectedFirstSequence: expectedFirstSequence,
            passingTallyDamage: true
        ) { batch in
            digest.add(batch)
            counter.add(batch)
        }
        guard let header = scan.header, let seal = scan.seal, scan.problem == nil, scan.validBytes == scan.fileBytes
        else { return nil }
        let blocksEnd: Int
        if let damage = scan.tallyDamage {
            let scheme = try Self.damagedTallyScheme(directory + "/" + fileName, at: damage.offset)
            guard scheme == nil || scheme == tally.scheme else { return nil }
            blocksEnd = damage.offset
        } else if let stored = scan.tally, stored.scheme == tally.scheme, stored != counter.tally {
            blocksEnd = TallyFrame.offset(fileBytes: scan.fileBytes)
        } else {
            return nil
        }
        return TalliedSource(
            header: header, seal: seal, blocksEnd: blocksEnd, fileBytes: scan.fileBytes, digest: digest,
            counts: counter.tally, records: scan.recordCount)
    }

    /// The scheme field of the damaged tally frame at `offset` when its 40-byte frame header still
    /// checks and names a tally frame with at least 4 payload bytes in the file; nil otherwise
    /// (missing, or cut or damaged before the scheme can be trusted to be one).
    private static func damagedTallyScheme(_ path: String, at offset: Int) throws -> UInt32? {
        let file = try SegmentFileReader(path: path)
        let bytes = SegmentFormat.frameHeaderBytes + 4
        guard try file.load(offset: offset, count: bytes) == bytes else { return nil }
        return file.withBytes(offset: offset, count: bytes) { raw -> UInt32? in
            let header = UnsafeRawBufferPointer(rebasing: raw[0..<SegmentFormat.frameHeaderBytes])
            guard case .success(let frame) = FrameHeader.decode(header), frame.kind == .tally else { return nil }
            return raw.loadLittleEndian(at: SegmentFormat.frameHeaderBytes, as: UInt32.self)
        }
    }

    /// A sealed dense segment's parts a tallied copy is made of.
    struct TalliedSource {
        var header: SegmentHeader
        var seal: SealInfo
        /// Where the last block ends: the blocks are the bytes from the header's end to here.
        var blocksEnd: Int
        var fileBytes: Int
        var digest: RecordDigest
        var counts: SegmentTally
        var records: Int
    }

    /// Copies the blocks byte for byte to `NAME.tmp` followed by a tally frame of `source.counts`,
    /// the seal frame's bytes (the file's last 56) and the header with version 2, syncs it, reads
    /// it back (no problem, same seal, same record digest, the tally equal to the counts, the
    /// blocks' bytes equal), then keeps the original as `keepingOriginalAs` when given (a hard
    /// link), renames the copy over it and syncs the directory.
    private func writeTallied(
        fileName: String, source: TalliedSource, tally: RecordTally, original: String,
        keepingOriginalAs broken: String?
    ) throws -> Outcome {
        let path = directory + "/" + fileName
        let tmpName = fileName + ".tmp"
        let tmpPath = directory + "/" + tmpName
        let sealOffset = source.fileBytes - SegmentFormat.sealFrameBytes
        let input = try FileIO.openFile(path, flags: O_RDONLY, operation: "open dense segment")
        defer { FileIO.closeFile(input) }
        let output = try FileIO.openFile(
            tmpPath, flags: O_RDWR | O_CREAT | O_TRUNC, operation: "create tallied segment")
        var renamed = false
        defer {
            FileIO.closeFile(output)
            if !renamed { try? FileIO.unlinkFile(tmpPath) }
        }
        let blocks = SegmentFormat.headerBytes..<source.blocksEnd
        let sourceBlocks = try Self.checksum(input, path, range: blocks, copyingTo: (output, tmpPath))
        let sealBytes = try Self.read(input, path, range: sealOffset..<source.fileBytes)
        var tallied = source.header
        tallied.hasTally = true
        try FileIO.write(
            output,
            TallyFrame.encoded(
                source.counts, lastSequence: source.seal.lastSequence,
                lastTimestampMicroseconds: source.seal.lastTimestampMicroseconds),
            at: blocks.upperBound, path: tmpPath)
        try FileIO.write(output, sealBytes, at: blocks.upperBound + TallyFrame.frameBytes, path: tmpPath)
        try FileIO.write(output, tallied.encoded(), at: 0, path: tmpPath)
        try FileIO.syncData(output, path: tmpPath)

        var copyDigest = RecordDigest()
        var copyCounter = TallyCounter(tally)
        let copy = try SegmentScanner.scan(
            directory: directory, fileName: tmpName, declaredFirstSequence: source.header.firstSequence
        ) { batch in
            copyDigest.add(batch)
            copyCounter.add(batch)
        }
        let copyBlocks = try Self.checksum(output, tmpPath, range: blocks)
        let mismatch: String? =
            if let problem = copy.problem { problem.reason }
            else if copy.header?.hasTally != true { "the copy's header is not version 2" }
            else if copy.seal != source.seal { "the seal differs" }
            else if copyDigest != source.digest { "the record digest differs" }
            else if copy.tally != source.counts || copyCounter.tally != source.counts {
                "the tally frame differs from the counts"
            }
            else if copyBlocks != sourceBlocks { "the blocks' bytes differ" }
            else { nil }
        if let mismatch {
            throw EventLogError.corruptSegment(
                file: tmpPath, offset: copy.problem?.offset ?? 0, sequence: copy.problem?.sequence,
                reason: "tallied copy does not read back identical (\(mismatch)); \(original)")
        }
        if let broken { try FileIO.linkFile(path, to: directory + "/" + broken) }
        try FileIO.renameFile(tmpPath, to: path)
        renamed = true
        try FileIO.syncDirectory(directory)
        return Outcome(bytesBefore: source.fileBytes, bytesAfter: copy.fileBytes, records: source.records)
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
