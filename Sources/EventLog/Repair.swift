import Logging

#if canImport(Glibc)
import Glibc
#endif

extension EventLogWriter {
    /// Repairs the log at its damage, in order (docs/FORMAT.md "Repair"). A sealed version-2
    /// segment whose only damage is its tally frame (with `recordTally` given, under its scheme),
    /// or whose tally frame checks but counts its records otherwise than `recordTally` does, gets
    /// the tally rebuilt from its records, the original kept as `.broken`, and the scan goes on.
    /// Any other damage, also inside a sealed segment, cuts the log: the damaged segment is
    /// rewritten with its whole commits before the damage (unsealed, so the writer continues it),
    /// and the original plus every later segment are renamed aside as `.broken`, never deleted.
    /// Takes the writer lock, so no writer may run meanwhile (`.locked` otherwise).
    public static func repair(
        directory: String, recordTally: RecordTally? = nil, logger: Logger
    ) throws -> RepairReport {
        let lock = try DirectoryLock.acquire(directory: directory)
        defer { lock.release() }
        let names = try LogDirectory.segmentNames(directory)
        let rewriter = tallyRewriter(directory: directory, recordTally: recordTally)
        var healthyLast: UInt64 = 0
        var start = 0
        var firstFound: EventLogError?
        var rebuilt: [RebuiltTally] = []
        while let found = try firstDamage(
            directory: directory, names: names, from: start, lastSequence: &healthyLast, recordTally: recordTally)
        {
            firstFound = firstFound ?? found.damage
            let name = names[found.index]
            let broken = try LogDirectory.brokenName(directory: directory, fileName: name)
            if try rewriter.rebuildTally(
                fileName: name, expectedFirstSequence: found.expected, keepingOriginalAs: broken) != nil {
                rebuilt.append(RebuiltTally(file: name, keptAs: broken, damage: found.damage))
                logger.warning(
                    "repaired the event log by rebuilding a segment's tally frame from its records; no record was cut",
                    metadata: ["log.damage": "\(found.damage)", "log.kept_as": "\(directory)/\(broken)"])
                healthyLast = found.result.lastSequence
                start = found.index + 1
                continue
            }
            try found.requireCut()
            var report = try cut(directory: directory, names: names, at: found, logger: logger)
            report.damage = firstFound
            report.rebuiltTallies = rebuilt
            return report
        }
        return RepairReport(damage: firstFound, lastSequence: healthyLast, setAside: [], rebuiltTallies: rebuilt)
    }

    /// Cuts the log at `found`: see `repair(directory:recordTally:logger:)`.
    private static func cut(directory: String, names: [String], at found: Damage, logger: Logger) throws
        -> RepairReport
    {
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

    /// What `repair(directory:recordTally:logger:)` will do, in order: a step per tally frame it
    /// rebuilds, then at most one cut, last; empty when the log is healthy. Read without the lock
    /// and without changing anything; a writer appending meanwhile can change the answer.
    public static func repairPlans(directory: String, recordTally: RecordTally? = nil) throws -> [RepairPlan] {
        let names = try LogDirectory.segmentNames(directory)
        let rewriter = tallyRewriter(directory: directory, recordTally: recordTally)
        var healthyLast: UInt64 = 0
        var start = 0
        var plans: [RepairPlan] = []
        while let found = try firstDamage(
            directory: directory, names: names, from: start, lastSequence: &healthyLast, recordTally: recordTally)
        {
            let name = names[found.index]
            guard try rewriter.tallyRebuildSource(fileName: name, expectedFirstSequence: found.expected) != nil else {
                try found.requireCut()
                plans.append(try cutPlan(directory: directory, names: names, at: found))
                break
            }
            plans.append(
                RepairPlan(
                    damage: found.damage, file: name, offset: found.problem.offset, reason: found.problem.reason,
                    action: .rebuildTally, lastKeptSequence: 0, firstCutSequence: 0, lastCutSequence: nil,
                    cutBytes: 0, setAside: [], tallyMismatches: found.tallyMismatches))
            healthyLast = found.result.lastSequence
            start = found.index + 1
        }
        let kept = plans.last.map { $0.rebuildsTally ? healthyLast : $0.lastKeptSequence } ?? healthyLast
        for index in plans.indices where plans[index].rebuildsTally {
            plans[index].lastKeptSequence = kept
            plans[index].firstCutSequence = kept + 1
        }
        return plans
    }

    /// What `repair(directory:recordTally:logger:)` does first (its first step, see
    /// `repairPlans(directory:recordTally:)`); nil when the log is healthy.
    public static func repairPlan(directory: String, recordTally: RecordTally? = nil) throws -> RepairPlan? {
        try repairPlans(directory: directory, recordTally: recordTally).first
    }

    /// The cut at `found`: what it keeps, cuts and sets aside.
    private static func cutPlan(directory: String, names: [String], at found: Damage) throws -> RepairPlan {
        let name = names[found.index]
        let keepsCommits = found.problem.offset >= SegmentFormat.headerBytes && found.result.commitCount > 0
        let keptLast = keepsCommits ? found.result.lastSequence : found.lastSequenceBefore
        var bytes = found.result.fileBytes - (keepsCommits ? found.problem.offset : 0)
        for later in names[(found.index + 1)...] {
            bytes += (try? FileIO.fileSize(directory + "/" + later)) ?? 0
        }
        return RepairPlan(
            damage: found.damage, file: name, offset: found.problem.offset, reason: found.problem.reason,
            action: .cut, lastKeptSequence: keptLast, firstCutSequence: keptLast + 1,
            lastCutSequence: lastWrittenSequence(directory: directory, names: Array(names[found.index...])),
            cutBytes: max(bytes, 0), setAside: Array(names[found.index...]))
    }

    /// The tally work's rewriter (it copies blocks and never compresses: level and block size unused).
    private static func tallyRewriter(directory: String, recordTally: RecordTally?) -> DenseRewriter {
        DenseRewriter(directory: directory, level: 0, blockBytes: 0, tally: recordTally)
    }

    private struct Damage {
        var index: Int
        var result: SegmentScanResult
        var problem: ScanProblem
        var damage: EventLogError
        /// The last sequence of the segments before the damaged one (0 when none).
        var lastSequenceBefore: UInt64
        /// The first sequence the damaged segment must start at (nil for the oldest).
        var expected: UInt64?
        /// The slots a tally frame that checks counts otherwise than its records (then the only
        /// damage: the segment's tally is rebuilt, never cut); empty for a scan's problem.
        var tallyMismatches: [TallyMismatch] = []

        /// Throws when the damage is a miscounted tally, which is rebuilt and never cut: the rebuild
        /// found no such segment, so the file changed since the scan.
        func requireCut() throws {
            guard !tallyMismatches.isEmpty, case .corruptSegment(let file, _, _, _) = damage else { return }
            throw EventLogError.corruptSegment(
                file: file, offset: problem.offset, sequence: problem.sequence,
                reason: problem.reason + "; the segment changed while repair read it: run repair again")
        }
    }

    /// Scans the segments in order from `names[start]` and returns the first damage (or unsealed
    /// segment before the newest). `lastSequence` holds the last sequence of the segments before
    /// `start` (which a segment at `start` > 0 must continue) and ends as that of the healthy
    /// segments scanned. With `recordTally`, a segment whose tally frame checks, names its scheme
    /// and counts otherwise than its records is damage too (at the tally frame).
    private static func firstDamage(
        directory: String, names: [String], from start: Int, lastSequence: inout UInt64, recordTally: RecordTally?
    ) throws -> Damage? {
        var expected: UInt64? = start > 0 ? lastSequence &+ 1 : nil
        for (index, name) in names.enumerated().dropFirst(start) {
            var counter = recordTally.map(TallyCounter.init)
            let result = try SegmentScanner.scan(
                directory: directory, fileName: name, expectedFirstSequence: expected, onBatch: { counter?.add($0) })
            let unsealedBeforeNewest = result.seal == nil && index < names.count - 1
            guard result.problem != nil || unsealedBeforeNewest else {
                if case let (problem, mismatches)? = miscount(result, counted: counter?.tally) {
                    let damage = EventLogError.corruptSegment(
                        file: directory + "/" + name, offset: problem.offset, sequence: problem.sequence,
                        reason: problem.reason)
                    return Damage(
                        index: index, result: result, problem: problem, damage: damage,
                        lastSequenceBefore: lastSequence, expected: expected, tallyMismatches: mismatches)
                }
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
                index: index, result: result, problem: problem, damage: damage, lastSequenceBefore: lastSequence,
                expected: expected)
        }
        return nil
    }

    /// Where and how a healthy scan's tally frame, naming `counted`'s scheme, counts otherwise than
    /// the records (`counted`): a problem at the tally frame and the slots that differ; nil when
    /// they agree, the segment has no tally frame, or the frame names another scheme (not damage).
    private static func miscount(
        _ result: SegmentScanResult, counted: SegmentTally?
    ) -> (ScanProblem, [TallyMismatch])? {
        guard let counted, let stored = result.tally, stored.scheme == counted.scheme, stored != counted else {
            return nil
        }
        let mismatches = TallyMismatch.between(stored, counted)
        let problem = ScanProblem(
            offset: TallyFrame.offset(fileBytes: result.fileBytes), sequence: result.lastSequence,
            reason: TallyMismatch.reason(mismatches), isTorn: false)
        return (problem, mismatches)
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
