import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What the writer continues from after recovery.
struct RecoveredLog: Sendable {
    var active: ActiveSegment?
    var nextSequence: UInt64
    var lastTimestampMicroseconds: Int64
    /// Sealed segments still in the stream form: the sealer rewrites them densely.
    var streamFormSealed: [String]
    /// Sealed dense segments without a tally frame (version 1, written by a writer without a
    /// record tally or a build before it), oldest first: a writer with a tally adds theirs.
    var untalliedDense: [String] = []
    /// The newest segment's records from the sequence asked for, as decoded (`RecoveredTail`).
    var tail: RecoveredTail?
}

extension RecoveredLog {
    /// Lists a sealed segment for the background work its form calls for.
    mutating func noteSealed(_ fileName: String, _ header: SegmentHeader) {
        switch header.form {
        case .stream: streamFormSealed.append(fileName)
        case .dense: if !header.hasTally { untalliedDense.append(fileName) }
        }
    }
}

/// Open-time checks: every sealed segment whole, the newest one cut back to its last whole commit.
enum Recovery {
    /// With `retainingFrom`, the newest segment's decoded records from that sequence on are kept
    /// in `RecoveredLog.tail` (those of its commits, as far as `RecoveredTailCollector` allows).
    static func recover(
        configuration: EventLogConfiguration, logger: Logger, retainingFrom: UInt64? = nil
    ) throws -> RecoveredLog {
        let directory = configuration.directory
        for name in try FileIO.list(directory) where name.hasSuffix(SegmentFormat.segmentSuffix + ".tmp") {
            try FileIO.unlinkFile(directory + "/" + name)
        }
        let names = try LogDirectory.segmentNames(directory)
        var recovered = RecoveredLog(active: nil, nextSequence: 1, lastTimestampMicroseconds: 0, streamFormSealed: [])
        var expected: UInt64?
        for name in names.dropLast() {
            let seal = try checkSealed(
                directory: directory, fileName: name, expected: expected,
                checksums: configuration.checksumSealedSegmentsOnOpen, tally: configuration.recordTally,
                recovered: &recovered)
            expected = seal.lastSequence + 1
            recovered.nextSequence = seal.lastSequence + 1
            recovered.lastTimestampMicroseconds = seal.lastTimestampMicroseconds
        }
        guard let newest = names.last else { return recovered }
        try recoverNewest(
            directory: directory, fileName: newest, expected: expected, tally: configuration.recordTally,
            logger: logger, retainingFrom: retainingFrom, recovered: &recovered)
        return recovered
    }

    private static func corrupt(_ directory: String, _ name: String, _ problem: ScanProblem, hint: String)
        -> EventLogError
    {
        .corruptSegment(
            file: directory + "/" + name, offset: problem.offset, sequence: problem.sequence,
            reason: problem.reason + "; " + hint)
    }

    private static let repairHint = "run repair to cut the log there (later records are set aside)"

    /// What repair does at damage found in `fileName`: rebuild its tally frame when that is the
    /// segment's only damage and `tally` is configured (docs/FORMAT.md "Repair"), cut otherwise.
    private static func repairHint(_ directory: String, _ fileName: String, expected: UInt64?, tally: RecordTally?)
        -> String
    {
        let rewriter = DenseRewriter(directory: directory, level: 0, blockBytes: 0, tally: tally)
        guard (try? rewriter.tallyRebuildSource(fileName: fileName, expectedFirstSequence: expected)) != nil else {
            return repairHint
        }
        return "run repair to rebuild the tally frame (derived counts) from the segment's records: no record is cut"
    }

    private static func checkSealed(
        directory: String, fileName: String, expected: UInt64?, checksums: Bool, tally: RecordTally?,
        recovered: inout RecoveredLog
    ) throws -> SealInfo {
        if !checksums {
            let file = try SegmentFileReader(path: directory + "/" + fileName)
            let header = try file.readHeader()
            guard case .success(let value) = header else {
                if case .failure(let failure) = header {
                    throw EventLogError.corruptSegment(
                        file: file.path, offset: 0, sequence: nil, reason: failure.reason + "; " + repairHint)
                }
                preconditionFailure("unreachable")
            }
            guard let seal = try file.readSeal() else {
                throw EventLogError.corruptSegment(
                    file: file.path, offset: try file.size(), sequence: nil,
                    reason: "a segment before the newest has no seal frame; " + repairHint)
            }
            if case .failure(let problem)? = try file.readTally(header: value) {
                throw corrupt(
                    directory, fileName, problem,
                    hint: repairHint(directory, fileName, expected: expected, tally: tally))
            }
            recovered.noteSealed(fileName, value)
            return seal
        }
        let result = try SegmentScanner.scan(
            directory: directory, fileName: fileName, expectedFirstSequence: expected, decode: false)
        if let problem = result.problem {
            throw corrupt(
                directory, fileName, problem, hint: repairHint(directory, fileName, expected: expected, tally: tally))
        }
        guard let seal = result.seal else {
            throw EventLogError.corruptSegment(
                file: directory + "/" + fileName, offset: result.fileBytes, sequence: result.lastSequence &+ 1,
                reason: "a segment before the newest has no seal frame; " + repairHint)
        }
        if let header = result.header { recovered.noteSealed(fileName, header) }
        return seal
    }

    private static func recoverNewest(
        directory: String, fileName: String, expected: UInt64?, tally: RecordTally?, logger: Logger,
        retainingFrom: UInt64?, recovered: inout RecoveredLog
    ) throws {
        let path = directory + "/" + fileName
        var collector = retainingFrom.map { RecoveredTailCollector(fromSequence: $0) }
        // Only whole, valid commits reach `onBatch`, in order: what a reader after a cut reads.
        let result = try SegmentScanner.scan(directory: directory, fileName: fileName, expectedFirstSequence: expected) {
            collector?.take($0)
        }
        recovered.tail = collector?.tail
        guard let header = result.header else {
            // The header is written and synced before any commit, so a short one holds no record.
            guard result.fileBytes <= SegmentFormat.headerBytes, let problem = result.problem else {
                throw corrupt(directory, fileName, result.problem!, hint: repairHint)
            }
            let broken = try LogDirectory.brokenName(directory: directory, fileName: fileName)
            try FileIO.renameFile(path, to: directory + "/" + broken)
            try FileIO.syncDirectory(directory)
            logger.warning(
                "newest segment has no whole header; set it aside",
                metadata: ["log.file": "\(path)", "log.kept_as": "\(broken)", "log.reason": "\(problem.reason)"])
            recovered.nextSequence = SegmentFormat.firstSequence(fileName: fileName) ?? recovered.nextSequence
            return
        }
        if let problem = result.problem {
            if problem.offset < SegmentFormat.headerBytes || header.form == .dense {
                throw corrupt(
                    directory, fileName, problem,
                    hint: repairHint(directory, fileName, expected: expected, tally: tally))
            }
            try cutTail(path: path, result: result, problem: problem, logger: logger)
        }
        recovered.nextSequence = result.lastSequence &+ 1
        if let last = result.lastTimestampMicroseconds { recovered.lastTimestampMicroseconds = last }
        if result.seal != nil {
            recovered.noteSealed(fileName, header)
            return
        }
        let fd = try FileIO.openFile(path, flags: O_RDWR, operation: "open segment")
        recovered.active = ActiveSegment(
            fileName: fileName, path: path, fd: fd, firstSequence: header.firstSequence,
            createdMicroseconds: header.createdMicroseconds, bytes: result.validBytes,
            commitCount: result.commitCount, firstTimestampMicroseconds: result.firstTimestampMicroseconds ?? 0,
            lastTimestampMicroseconds: result.lastTimestampMicroseconds ?? 0)
    }

    /// Cuts a torn tail: keeps the cut bytes as `.broken`, truncates, syncs, and warns. Refuses when
    /// whole frames follow the damage (that is corruption, not a torn write).
    private static func cutTail(path: String, result: SegmentScanResult, problem: ScanProblem, logger: Logger) throws {
        let fd = try FileIO.openFile(path, flags: O_RDWR, operation: "open segment for recovery")
        defer { FileIO.closeFile(fd) }
        let cutBytes = result.fileBytes - result.validBytes
        var tail = [UInt8](repeating: 0, count: cutBytes)
        _ = try tail.withUnsafeMutableBytes { try FileIO.read(fd, into: $0, at: result.validBytes, path: path) }
        let framesAfter = wholeFrameHeaders(in: tail, after: 1)
        if framesAfter > 0 {
            throw EventLogError.corruptSegment(
                file: path, offset: problem.offset, sequence: problem.sequence,
                reason: problem.reason + "; \(framesAfter) whole frame(s) follow, so this is not a torn tail; "
                    + repairHint)
        }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        let fileName = String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...])
        let broken = try LogDirectory.brokenName(directory: directory, fileName: fileName)
        try FileIO.copyTail(fd, from: result.validBytes, count: cutBytes, source: path, to: directory + "/" + broken)
        try FileIO.truncate(fd, to: result.validBytes, path: path)
        try FileIO.syncData(fd, path: path)
        try FileIO.syncDirectory(directory)
        // A torn write leaves at most one partial commit (checked above): it was never acknowledged.
        let commitsDropped = cutBytes > 0 ? 1 : 0
        let message =
            "cut a torn tail off the newest segment: dropped \(cutBytes) bytes and \(commitsDropped) "
            + "unacknowledged commit(s)"
        logger.warning(
            "\(message)",
            metadata: [
                "log.file": "\(path)", "log.offset": "\(result.validBytes)", "log.bytes_dropped": "\(cutBytes)",
                "log.commits_dropped": "\(commitsDropped)", "log.kept_as": "\(broken)",
                "log.reason": "\(problem.reason)", "log.next_sequence": "\(result.lastSequence &+ 1)",
            ])
    }

    /// Counts offsets at or after `start` in `bytes` holding a frame header whose checksum matches.
    static func wholeFrameHeaders(in bytes: [UInt8], after start: Int) -> Int {
        let headerBytes = SegmentFormat.frameHeaderBytes
        guard bytes.count >= headerBytes + start else { return 0 }
        var count = 0
        bytes.withUnsafeBytes { raw in
            for offset in start...(raw.count - headerBytes)
            where raw[offset] == SegmentFormat.frameMagic0 && raw[offset + 1] == SegmentFormat.frameMagic1 {
                let slice = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + headerBytes)])
                if case .success = FrameHeader.decode(slice) { count += 1 }
            }
        }
        return count
    }
}

/// Names in a log directory.
enum LogDirectory {
    /// Segment file names, oldest first.
    static func segmentNames(_ directory: String) throws -> [String] {
        try FileIO.list(directory)
            .compactMap { name in SegmentFormat.firstSequence(fileName: name).map { (name, $0) } }
            .sorted { $0.1 < $1.1 }
            .map(\.0)
    }

    /// `NAME.broken`, or `NAME.N.broken` when that exists already.
    static func brokenName(directory: String, fileName: String) throws -> String {
        var candidate = fileName + ".broken"
        var counter = 1
        while FileIO.exists(directory + "/" + candidate) {
            candidate = fileName + ".\(counter).broken"
            counter += 1
        }
        return candidate
    }
}
