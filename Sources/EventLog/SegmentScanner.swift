/// A problem found while scanning a segment.
struct ScanProblem: Error, Sendable {
    var offset: Int
    var sequence: UInt64?
    var reason: String
    /// The bytes simply end inside a frame (as after a crash mid-write).
    var isTorn: Bool
}

/// What a full scan of one segment found.
struct SegmentScanResult: Sendable {
    var fileName: String
    var header: SegmentHeader?
    var fileBytes: Int
    /// Offset just past the last whole, valid frame (the seal frame included).
    var validBytes: Int
    var commitCount: Int = 0
    var recordCount: Int = 0
    var firstSequence: UInt64
    var lastSequence: UInt64
    var firstTimestampMicroseconds: Int64?
    var lastTimestampMicroseconds: Int64?
    var seal: SealInfo?
    /// The tally frame's counts (version-2 segments), checked against the blocks before it.
    var tally: SegmentTally?
    /// With `passingTallyDamage`: the damage of a version-2 segment's tally frame the scan passed
    /// over (its offset is where the last block ends), nil when there was none.
    var tallyDamage: ScanProblem?
    var problem: ScanProblem?

    var isSealed: Bool { seal != nil && problem == nil }
}

/// Reads a segment frame by frame and checks everything the format promises.
enum SegmentScanner {
    /// Scans `directory/fileName`. With `decode` false, checksums are checked but nothing is
    /// decompressed; otherwise every batch is decoded and handed to `onBatch`.
    ///
    /// With `passingTallyDamage` (repair's tally rebuild), damage confined to the tally frame of a
    /// version-2 segment is noted in `tallyDamage` instead of `problem`, and the scan checks the
    /// seal that ends the file as usual: the damage must start where the block holding the
    /// header's last sequence ends, within one tally frame's bytes before the file's last 56
    /// (a damaged, short or missing tally frame). Any other damage is a `problem` as without it.
    static func scan(
        directory: String, fileName: String, expectedFirstSequence: UInt64? = nil, decode: Bool = true,
        declaredFirstSequence: UInt64? = nil, passingTallyDamage: Bool = false,
        onBatch: (DecodedBatch) throws -> Void = { _ in }
    ) throws -> SegmentScanResult {
        let file = try SegmentFileReader(path: directory + "/" + fileName)
        let nameSequence = declaredFirstSequence ?? SegmentFormat.firstSequence(fileName: fileName) ?? 0
        let fileBytes = try file.size()
        var result = SegmentScanResult(
            fileName: fileName, fileBytes: fileBytes, validBytes: 0, firstSequence: nameSequence,
            lastSequence: nameSequence &- 1)
        let header: SegmentHeader
        switch try file.readHeader() {
        case .failure(let failure):
            result.problem = ScanProblem(
                offset: 0, sequence: nil, reason: failure.reason, isTorn: fileBytes < SegmentFormat.headerBytes)
            return result
        case .success(let value):
            header = value
        }
        result.header = header
        if header.firstSequence != nameSequence {
            result.problem = ScanProblem(
                offset: 16, sequence: header.firstSequence,
                reason: "header says first sequence \(header.firstSequence), the file name \(nameSequence)",
                isTorn: false)
            return result
        }
        if let expected = expectedFirstSequence, expected != header.firstSequence {
            result.problem = ScanProblem(
                offset: 16, sequence: header.firstSequence,
                reason: "sequence gap: expected the segment to start at \(expected)", isTorn: false)
            return result
        }
        result.validBytes = SegmentFormat.headerBytes
        try walk(
            file: file, header: header, decode: decode, passingTallyDamage: passingTallyDamage, result: &result,
            onBatch: onBatch)
        return result
    }

    private static func walk(
        file: SegmentFileReader, header: SegmentHeader, decode: Bool, passingTallyDamage: Bool,
        result: inout SegmentScanResult, onBatch: (DecodedBatch) throws -> Void
    ) throws {
        var walker = FrameWalker(file: file)
        let decoder = BatchDecoder()
        let expectedKind: FrameKind = header.form == .stream ? .commit : .denseBlock
        let sealOffset = result.fileBytes - SegmentFormat.sealFrameBytes
        func fail(_ reason: String, torn: Bool = false) {
            result.problem = ScanProblem(
                offset: walker.offset, sequence: result.lastSequence &+ 1, reason: reason, isTorn: torn)
        }
        /// Notes tally damage found at `start` and moves on to the seal when the scan passes it.
        func passTally(_ reason: String, at start: Int, torn: Bool = false) -> Bool {
            guard passingTallyDamage, header.form == .dense, header.hasTally, result.tally == nil,
                result.tallyDamage == nil, result.seal == nil, result.commitCount > 0,
                result.lastSequence == header.lastSequence, start == result.validBytes,
                start >= sealOffset - TallyFrame.frameBytes, start <= sealOffset
            else { return false }
            result.tallyDamage = ScanProblem(offset: start, sequence: header.lastSequence, reason: reason, isTorn: torn)
            if walker.offset < sealOffset { walker.offset = sealOffset }
            return true
        }
        while true {
            let frameStart = walker.offset
            let step = try walker.next()
            switch step {
            case .end:
                return
            case .torn(let reason):
                if passTally(reason, at: frameStart, torn: true) { continue }
                return fail(reason, torn: true)
            case .damaged(let reason):
                if passTally(reason, at: frameStart) { continue }
                return fail(reason)
            case .frame(let frame, let payload):
                if result.seal != nil { return fail("bytes after the seal frame") }
                if frame.kind == .tally {
                    if let reason = takeTally(frame, payload, header: header, result: &result) {
                        if passTally(reason, at: frameStart) { continue }
                        return fail(reason)
                    }
                    result.validBytes = walker.offset
                    continue
                }
                if frame.kind == .seal {
                    let reason = "a version-2 segment's seal frame without a tally frame before it"
                    guard !header.hasTally || result.tally != nil || result.tallyDamage != nil
                        || passTally(reason, at: frameStart)
                    else { return fail(reason) }
                    let seal = SealInfo(header: frame, payload: payload)
                    guard seal.lastSequence == result.lastSequence,
                        !decode || seal.commitCount == UInt64(result.commitCount),
                        result.commitCount == 0 || seal.firstTimestampMicroseconds == result.firstTimestampMicroseconds
                    else { return fail("seal frame disagrees with the commits before it") }
                    guard header.form == .stream || header.lastSequence == seal.lastSequence else {
                        return fail("dense header's last sequence \(header.lastSequence) disagrees with the seal")
                    }
                    result.seal = seal
                    result.validBytes = walker.offset
                    continue
                }
                guard frame.kind == expectedKind else { return fail("\(frame.kind) frame in a \(header.form) segment") }
                guard result.tally == nil else { return fail("a \(frame.kind) frame after the tally frame") }
                guard frame.firstSequence == result.lastSequence &+ 1 else {
                    return fail("frame starts at sequence \(frame.firstSequence), expected \(result.lastSequence &+ 1)")
                }
                guard frame.recordCount >= 1 else { return fail("frame with no record") }
                guard frame.timestampMicroseconds >= (result.lastTimestampMicroseconds ?? Int64.min) else {
                    return fail("commit timestamp \(frame.timestampMicroseconds) goes back")
                }
                var commits = 1
                var lastTimestamp = frame.timestampMicroseconds
                if decode {
                    switch decoder.decode(frame, payload: payload) {
                    case .failure(let failure): return fail(failure.reason)
                    case .success(let batch):
                        commits = batch.commits.count
                        lastTimestamp = batch.lastTimestampMicroseconds
                        try onBatch(batch)
                    }
                }
                if result.firstTimestampMicroseconds == nil {
                    result.firstTimestampMicroseconds = frame.timestampMicroseconds
                }
                result.lastTimestampMicroseconds = lastTimestamp
                result.commitCount += commits
                result.recordCount += frame.recordCount
                result.lastSequence = frame.firstSequence + UInt64(frame.recordCount) - 1
                result.validBytes = walker.offset
            }
        }
    }

    /// Checks a tally frame (a version-2 segment's one, right after its last block) and keeps its
    /// counts; returns why it fails otherwise.
    private static func takeTally(
        _ frame: FrameHeader, _ payload: [UInt8], header: SegmentHeader, result: inout SegmentScanResult
    ) -> String? {
        guard header.hasTally else { return "tally frame in a version-\(header.version) segment" }
        guard result.tally == nil else { return "a second tally frame" }
        let decoded = payload.withUnsafeBytes { TallyFrame.decode($0) }
        let tally: SegmentTally
        switch decoded {
        case .failure(let failure): return failure.reason
        case .success(let value): tally = value
        }
        if let failure = TallyFrame.check(
            frame, tally, lastSequence: result.lastSequence,
            lastTimestampMicroseconds: header.lastTimestampMicroseconds, records: UInt64(result.recordCount))
        {
            return failure.reason
        }
        result.tally = tally
        return nil
    }
}
