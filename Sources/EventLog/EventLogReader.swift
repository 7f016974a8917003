#if canImport(Glibc)
import Glibc
#endif

/// Reads a log directory without a lock, also while a writer appends to it.
public struct EventLogReader: Sendable {
    /// The directory holding the `.seg` files.
    public let directory: String

    /// Throws `.io` when `directory` is not a directory.
    public init(directory: String) throws {
        guard FileIO.isDirectory(directory) else {
            throw EventLogError.io(operation: "open log directory", path: directory, errno: ENOENT)
        }
        self.directory = directory
    }

    /// The first sequence the log still holds (from the oldest segment's name): 1 unless
    /// retention removed older segments; nil while the directory holds no segment.
    public func firstSequence() throws -> UInt64? {
        try LogDirectory.segmentNames(directory).first.flatMap { SegmentFormat.firstSequence(fileName: $0) }
    }

    /// A cursor positioned at the first record with sequence ≥ `sequence` (at the log's first
    /// record when retention removed the ones before it: compare with `firstSequence()`).
    public func cursor(fromSequence sequence: UInt64) throws -> LogCursor {
        let names = try LogDirectory.segmentNames(directory)
        let start = names.last { (SegmentFormat.firstSequence(fileName: $0) ?? 0) <= sequence } ?? names.first
        let state = CursorState(
            directory: directory, fromSequence: sequence, fromTimestamp: Int64.min,
            nextSequence: start.flatMap { SegmentFormat.firstSequence(fileName: $0) })
        return LogCursor(state: state)
    }

    /// A cursor positioned at the first record with timestamp ≥ `timestampMicroseconds`.
    /// Sealed segments that end before that time are skipped without being read.
    public func cursor(fromTimestamp timestampMicroseconds: Int64) throws -> LogCursor {
        var nextSequence: UInt64?
        for name in try LogDirectory.segmentNames(directory) {
            // Retention removed it since the listing (oldest first): start at a later one.
            guard let file = try SegmentFileReader.openIfPresent(path: directory + "/" + name) else { continue }
            nextSequence = nextSequence ?? SegmentFormat.firstSequence(fileName: name)
            guard case .success(let header)? = try file.readHeaderIfWhole(),
                let sealed = try Self.sealedSummary(file: file, header: header),
                sealed.lastTimestampMicroseconds < timestampMicroseconds
            else { break }
            nextSequence = sealed.lastSequence + 1
        }
        let state = CursorState(
            directory: directory, fromSequence: 0, fromTimestamp: timestampMicroseconds, nextSequence: nextSequence)
        return LogCursor(state: state)
    }

    /// Every segment, oldest first, described from its header or seal frame (no decompression);
    /// for the unsealed newest segment, from its commit headers. A version-2 segment's tally
    /// frame is read and checked (`SegmentInfo.tally`); a bad one throws `.corruptSegment`.
    public func segments() throws -> [SegmentInfo] {
        let names = try LogDirectory.segmentNames(directory)
        var infos: [SegmentInfo] = []
        for (index, name) in names.enumerated() {
            let path = directory + "/" + name
            // Retention removed it since the listing (oldest first): the span starts later.
            guard let file = try SegmentFileReader.openIfPresent(path: path) else { continue }
            let header: SegmentHeader
            switch try file.readHeaderIfWhole() {
            case .success(let value)?: header = value
            case .failure(let failure)?:
                throw EventLogError.corruptSegment(file: path, offset: 0, sequence: nil, reason: failure.reason)
            case nil:
                // The newest segment shows no header between its creation and the header write.
                if index == names.count - 1 { continue }
                throw EventLogError.corruptSegment(
                    file: path, offset: 0, sequence: nil,
                    reason: "header has \(try file.size()) of \(SegmentFormat.headerBytes) bytes")
            }
            let size = try file.size()
            if let seal = try Self.sealedSummary(file: file, header: header) {
                var tally: SegmentTally?
                switch try file.readTally(header: header) {
                case .success(let value)?: tally = value
                case .failure(let problem)?:
                    throw EventLogError.corruptSegment(
                        file: path, offset: problem.offset, sequence: problem.sequence, reason: problem.reason)
                case nil: tally = nil
                }
                infos.append(
                    SegmentInfo(
                        fileName: name, bytes: size, firstSequence: header.firstSequence,
                        lastSequence: seal.lastSequence, firstTimestampMicroseconds: seal.firstTimestampMicroseconds,
                        lastTimestampMicroseconds: seal.lastTimestampMicroseconds, isSealed: true, tally: tally))
                continue
            }
            infos.append(try Self.scanCommitHeaders(file: file, header: header, fileName: name, size: size))
        }
        return infos
    }

    /// The first sequence of each dense block of a segment, from the frame headers alone (no
    /// payload is read): where a reader may start decoding it independently. Empty for a
    /// segment in the stream form, whose commits decode only in order from its start.
    public func denseBlockStarts(fileName: String) throws -> [UInt64] {
        let file = try SegmentFileReader(path: directory + "/" + fileName)
        guard case .success(let header) = try file.readHeader(), header.form == .dense else { return [] }
        var walker = FrameWalker(file: file)
        var starts: [UInt64] = []
        while case .frame(let frame, _) = try walker.next(readPayload: false), frame.kind == .denseBlock {
            starts.append(frame.firstSequence)
        }
        return starts
    }

    /// Reads every segment whole (checksums, decompression, sequences, timestamps, seals) and
    /// returns each problem found, at most one per segment (empty when healthy). With `decode`
    /// false nothing is decompressed: framing, checksums, sequences, frame timestamps and seals are
    /// checked (a dense seal's commit count is not), for a caller that decodes every record anyway.
    public func verify(decode: Bool = true) -> [EventLogError] {
        let names: [String]
        do {
            names = try LogDirectory.segmentNames(directory)
        } catch {
            return [error as? EventLogError ?? .io(operation: "list", path: directory, errno: 0)]
        }
        var problems: [EventLogError] = []
        var expected: UInt64?
        for (index, name) in names.enumerated() {
            let path = directory + "/" + name
            do {
                let result = try SegmentScanner.scan(
                    directory: directory, fileName: name, expectedFirstSequence: expected, decode: decode)
                if let problem = result.problem {
                    let hint =
                        index == names.count - 1 && result.seal == nil && problem.isTorn
                        ? " (torn tail of the newest segment: the writer cuts it at its next open)" : ""
                    problems.append(
                        .corruptSegment(
                            file: path, offset: problem.offset, sequence: problem.sequence,
                            reason: problem.reason + hint))
                } else if result.seal == nil && index < names.count - 1 {
                    problems.append(
                        .corruptSegment(
                            file: path, offset: result.fileBytes, sequence: result.lastSequence &+ 1,
                            reason: "a segment before the newest has no seal frame"))
                }
                expected = result.problem == nil ? result.lastSequence &+ 1 : nil
            } catch {
                expected = nil
                problems.append(error as? EventLogError ?? .io(operation: "verify", path: path, errno: 0))
            }
        }
        return problems
    }

    /// The seal of a segment (from a dense header or the trailing seal frame), nil while unsealed.
    static func sealedSummary(directory: String, fileName: String) throws -> SealInfo? {
        let file = try SegmentFileReader(path: directory + "/" + fileName)
        guard case .success(let header) = try file.readHeader() else { return nil }
        return try sealedSummary(file: file, header: header)
    }

    static func sealedSummary(file: SegmentFileReader, header: SegmentHeader) throws -> SealInfo? {
        if header.form == .dense {
            return SealInfo(
                lastSequence: header.lastSequence, firstTimestampMicroseconds: header.firstTimestampMicroseconds,
                lastTimestampMicroseconds: header.lastTimestampMicroseconds, commitCount: UInt64(header.commitCount))
        }
        return try file.readSeal()
    }

    /// Describes an unsealed segment from its commit headers, up to the last whole commit.
    private static func scanCommitHeaders(
        file: SegmentFileReader, header: SegmentHeader, fileName: String, size: Int
    ) throws -> SegmentInfo {
        var walker = FrameWalker(file: file)
        var info = SegmentInfo(
            fileName: fileName, bytes: size, firstSequence: header.firstSequence, lastSequence: 0,
            firstTimestampMicroseconds: 0, lastTimestampMicroseconds: 0, isSealed: false)
        var commits = 0
        while case .frame(let frame, _) = try walker.next(readPayload: false), frame.kind == .commit {
            if commits == 0 { info.firstTimestampMicroseconds = frame.timestampMicroseconds }
            info.lastTimestampMicroseconds = frame.timestampMicroseconds
            info.lastSequence = frame.firstSequence + UInt64(frame.recordCount) - 1
            commits += 1
        }
        return info
    }
}
