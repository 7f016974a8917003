import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What `EventLogWriter.repair(directory:logger:)` found and did.
public struct RepairReport: Sendable, Equatable {
    /// The damage found (file, offset, reason), nil when the log was healthy and left alone.
    public var damage: EventLogError?
    /// The last sequence the log holds after repair (0 when empty).
    public var lastSequence: UInt64
    /// Files renamed aside with a `.broken` suffix (the damaged original and every later segment).
    public var setAside: [String]
}

/// What `EventLogWriter.repairPlan(directory:)` found: where the log would be cut and what
/// would be set aside, so a tool can say it before doing it.
public struct RepairPlan: Sendable, Equatable {
    /// The damage (file path, offset, sequence, reason).
    public var damage: EventLogError
    /// The damaged segment's file name.
    public var file: String
    /// Where in it the damage starts; the whole commits before it are kept.
    public var offset: Int
    public var reason: String
    /// The last sequence the log keeps (0 when nothing is kept).
    public var lastKeptSequence: UInt64
    /// The first sequence cut.
    public var firstCutSequence: UInt64
    /// The last sequence the cut files claim, nil when their headers cannot tell.
    public var lastCutSequence: UInt64?
    /// Bytes no longer read: the damaged segment from `offset` on (all of it when none of its
    /// commits is kept) and every later segment.
    public var cutBytes: Int
    /// The segment files renamed aside as `.broken` (the damaged one and every later one).
    public var setAside: [String]
}

extension EventLogWriter {
    /// Cuts the log at its first damage, also inside a sealed segment: the damaged segment is
    /// rewritten with its whole commits before the damage (unsealed, so the writer continues it),
    /// and the original plus every later segment are renamed aside as `.broken`, never deleted.
    /// Takes the writer lock, so no writer may run meanwhile (`.locked` otherwise).
    public static func repair(directory: String, logger: Logger) throws -> RepairReport {
        let lock = try DirectoryLock.acquire(directory: directory)
        defer { lock.release() }
        let names = try LogDirectory.segmentNames(directory)
        var healthyLast: UInt64 = 0
        guard let found = try firstDamage(directory: directory, names: names, lastSequence: &healthyLast) else {
            return RepairReport(damage: nil, lastSequence: healthyLast, setAside: [])
        }
        let name = names[found.index]
        let trusted = found.problem.offset < SegmentFormat.headerBytes ? nil : found.result.header
        let kept = try rewritePrefix(directory: directory, fileName: name, header: trusted)
        var setAside: [String] = []
        for later in names[found.index...] {
            let broken = try LogDirectory.brokenName(directory: directory, fileName: later)
            try FileIO.renameFile(directory + "/" + later, to: directory + "/" + broken)
            setAside.append(broken)
        }
        if let kept { try FileIO.renameFile(directory + "/" + kept, to: directory + "/" + name) }
        try FileIO.syncDirectory(directory)
        let last = kept == nil ? found.lastSequenceBefore : found.result.lastSequence
        logger.warning(
            "repaired the event log by cutting it at the damage; later records were set aside",
            metadata: [
                "log.damage": "\(found.damage)", "log.last_sequence": "\(last)", "log.set_aside": "\(setAside)",
            ])
        return RepairReport(damage: found.damage, lastSequence: last, setAside: setAside)
    }

    /// What `repair(directory:logger:)` would cut, read without the lock and without changing
    /// anything; nil when the log is healthy. A writer appending meanwhile can change the answer.
    public static func repairPlan(directory: String) throws -> RepairPlan? {
        let names = try LogDirectory.segmentNames(directory)
        var healthyLast: UInt64 = 0
        guard let found = try firstDamage(directory: directory, names: names, lastSequence: &healthyLast) else {
            return nil
        }
        let name = names[found.index]
        let keepsCommits = found.problem.offset >= SegmentFormat.headerBytes && found.result.commitCount > 0
        let keptLast = keepsCommits ? found.result.lastSequence : found.lastSequenceBefore
        var bytes = found.result.fileBytes - (keepsCommits ? found.problem.offset : 0)
        for later in names[(found.index + 1)...] {
            bytes += (try? FileIO.fileSize(directory + "/" + later)) ?? 0
        }
        return RepairPlan(
            damage: found.damage, file: name, offset: found.problem.offset, reason: found.problem.reason,
            lastKeptSequence: keptLast, firstCutSequence: keptLast + 1,
            lastCutSequence: lastWrittenSequence(directory: directory, names: Array(names[found.index...])),
            cutBytes: max(bytes, 0), setAside: Array(names[found.index...]))
    }

    private struct Damage {
        var index: Int
        var result: SegmentScanResult
        var problem: ScanProblem
        var damage: EventLogError
        /// The last sequence of the segments before the damaged one (0 when none).
        var lastSequenceBefore: UInt64
    }

    /// Scans the segments in order and returns the first damage (or unsealed segment before the newest).
    /// `lastSequence` ends as the last sequence of the healthy segments scanned.
    private static func firstDamage(directory: String, names: [String], lastSequence: inout UInt64) throws -> Damage? {
        var expected: UInt64?
        for (index, name) in names.enumerated() {
            let result = try SegmentScanner.scan(directory: directory, fileName: name, expectedFirstSequence: expected)
            let unsealedBeforeNewest = result.seal == nil && index < names.count - 1
            guard result.problem != nil || unsealedBeforeNewest else {
                expected = result.lastSequence &+ 1
                lastSequence = result.lastSequence
                continue
            }
            let problem =
                result.problem
                ?? ScanProblem(
                    offset: result.fileBytes, sequence: result.lastSequence &+ 1,
                    reason: "a segment before the newest has no seal frame", isTorn: false)
            let damage = EventLogError.corruptSegment(
                file: directory + "/" + name, offset: problem.offset, sequence: problem.sequence, reason: problem.reason
            )
            return Damage(
                index: index, result: result, problem: problem, damage: damage, lastSequenceBefore: lastSequence)
        }
        return nil
    }

    /// The highest sequence the headers, seals or commit headers of `names` claim (nil when none
    /// can be read): how far the records set aside reach.
    private static func lastWrittenSequence(directory: String, names: [String]) -> UInt64? {
        for name in names.reversed() {
            guard let file = try? SegmentFileReader(path: directory + "/" + name),
                case .success(let header)? = try? file.readHeader()
            else { continue }
            if let seal = try? EventLogReader.sealedSummary(file: file, header: header) { return seal.lastSequence }
            var walker = FrameWalker(file: file)
            var last: UInt64?
            while case .frame(let frame, _)? = try? walker.next(readPayload: false), frame.recordCount > 0 {
                last = frame.firstSequence + UInt64(frame.recordCount) - 1
            }
            if let last { return last }
        }
        return nil
    }

    /// Writes the whole commits of `fileName` before its damage into `NAME.repair` as an unsealed
    /// stream-form segment; returns that name, or nil when no commit survives.
    private static func rewritePrefix(directory: String, fileName: String, header: SegmentHeader?) throws -> String? {
        guard let header else { return nil }
        let tmpName = fileName + ".repair"
        let tmpPath = directory + "/" + tmpName
        let fd = try FileIO.openFile(tmpPath, flags: O_RDWR | O_CREAT | O_TRUNC, operation: "create repaired segment")
        defer { FileIO.closeFile(fd) }
        let fresh = SegmentHeader(
            form: .stream, firstSequence: header.firstSequence, createdMicroseconds: header.createdMicroseconds)
        try FileIO.write(fd, fresh.encoded(), at: 0, path: tmpPath)
        var offset = SegmentFormat.headerBytes
        let compressor = StreamCompressor(level: 3)
        var first = true
        _ = try SegmentScanner.scan(directory: directory, fileName: fileName) { batch in
            for frame in try commitFrames(batch, compressor: compressor, first: &first, path: tmpPath) {
                try FileIO.write(fd, frame, at: offset, path: tmpPath)
                offset += frame.count
            }
        }
        try FileIO.syncData(fd, path: tmpPath)
        if first {
            try FileIO.unlinkFile(tmpPath)
            return nil
        }
        return tmpName
    }

    /// Re-encodes each commit of a decoded batch as a stream-form commit frame.
    private static func commitFrames(
        _ batch: DecodedBatch, compressor: StreamCompressor, first: inout Bool, path: String
    ) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var sequence = batch.firstSequence
        var start = batch.recordsStart
        for commit in batch.commits {
            let end = batch.plain.withUnsafeBytes { bytes -> Int in
                var offset = start
                for _ in 0..<commit.recordCount {
                    let length = Varint.read(bytes, &offset)!
                    offset += Int(length)
                }
                return offset
            }
            let plain = Array(batch.plain[start..<end])
            if first { compressor.startNewFrame() }
            var frame = [UInt8](
                repeating: 0, count: SegmentFormat.frameHeaderBytes + StreamCompressor.bound(plainBytes: plain.count))
            let result = plain.withUnsafeBytes { source in
                frame.withUnsafeMutableBytes {
                    compressor.compressFlush(
                        source, into: UnsafeMutableRawBufferPointer(rebasing: $0[SegmentFormat.frameHeaderBytes...]))
                }
            }
            guard case .success(let payloadBytes) = result else {
                throw EventLogError.io(operation: "zstd compress during repair", path: path, errno: 0)
            }
            frame.removeLast(frame.count - SegmentFormat.frameHeaderBytes - payloadBytes)
            let header = FrameHeader(
                kind: .commit, startsZstdFrame: first, payloadBytes: payloadBytes, plainBytes: plain.count,
                recordCount: commit.recordCount, firstSequence: sequence,
                timestampMicroseconds: commit.timestampMicroseconds,
                payloadChecksum: CRC32C.checksum(Array(frame[SegmentFormat.frameHeaderBytes...])))
            header.store(into: &frame, at: 0)
            frames.append(frame)
            first = false
            sequence += UInt64(commit.recordCount)
            start = end
        }
        return frames
    }
}
