/// What one retention pass removed from a log directory.
public struct RetentionOutcome: Sendable, Equatable {
    /// The segments removed, oldest first, as they were described just before removal.
    public var removedSegments: [SegmentInfo] = []

    /// Bytes the removed segments held on disk.
    public var removedBytes: Int { removedSegments.reduce(0) { $0 + $1.bytes } }

    public init(removedSegments: [SegmentInfo] = []) {
        self.removedSegments = removedSegments
    }
}

/// Removes the oldest sealed segments of a log directory (README, "Data directory": retention).
///
/// Segments go oldest first, each unlinked (atomic per file) and the directory fsync'ed before the
/// next, so a crash at any point leaves a log that still runs without a gap from its first
/// segment to its newest. The newest segment (the active one, or the one a writer continues
/// after) is never removed, so the writer's next sequence is always known from the files.
enum Retention {
    /// Removes, oldest first, sealed segments whose last sequence is at most `sequence` and whose
    /// last timestamp is before `timeMicroseconds`; stops at the first segment that does not qualify.
    static func removeSegments(
        directory: String, throughSequence sequence: UInt64, endingBefore timeMicroseconds: Int64
    ) throws -> RetentionOutcome {
        var outcome = RetentionOutcome()
        for name in try LogDirectory.segmentNames(directory).dropLast() {
            let path = directory + "/" + name
            let file = try SegmentFileReader(path: path)
            guard case .success(let header) = try file.readHeader(),
                let seal = try EventLogReader.sealedSummary(file: file, header: header),
                seal.lastSequence <= sequence, seal.lastTimestampMicroseconds < timeMicroseconds
            else { break }
            let info = SegmentInfo(
                fileName: name, bytes: try file.size(), firstSequence: header.firstSequence,
                lastSequence: seal.lastSequence, firstTimestampMicroseconds: seal.firstTimestampMicroseconds,
                lastTimestampMicroseconds: seal.lastTimestampMicroseconds, isSealed: true)
            try FileIO.unlinkFile(path)
            try FileIO.syncDirectory(directory)
            outcome.removedSegments.append(info)
        }
        return outcome
    }
}
