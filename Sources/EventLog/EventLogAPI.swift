import Logging

// The public value types of EventLog that Registry and the tools build on. The writer is in
// EventLogWriter.swift, the reader in EventLogReader.swift and LogCursor.swift.
#if canImport(Glibc)
import Glibc
#endif

/// When the writer makes a commit durable before acknowledging it.
public enum FsyncPolicy: Sendable, Equatable {
    /// fdatasync every commit before any appender in it is resumed (the default).
    case always
    /// fdatasync at most every `milliseconds`; appenders resume after the write.
    case interval(milliseconds: Int)
    /// Never fdatasync; the OS writes back when it likes.
    case never
}

/// Settings of one log directory. Sizes are settings so tests can make them tiny.
public struct EventLogConfiguration: Sendable {
    /// The directory holding the `.seg` files (the server uses `DATA/log`).
    public var directory: String
    public var fsync: FsyncPolicy = .always
    /// A segment is sealed before a commit would take it past this size (a lone larger commit
    /// still gets a segment of its own). At least 4 KiB.
    public var segmentBytesMax: Int = 64 << 20
    /// A segment is sealed at the first commit this long after it was created.
    public var segmentAgeSecondsMax: Int = 3600
    /// Largest payload of one record; a larger append throws `.recordTooLarge`.
    public var recordBytesMax: Int = 64 << 10
    /// Largest commit (records with their length prefixes, before compression); at most 16 MiB.
    public var commitBytesMax: Int = 4 << 20
    /// zstd level of the live stream (each commit flushed).
    public var compressionLevel: Int = 3
    /// zstd level of the dense rewrite of sealed segments (done once, in the background). 13 is
    /// within 3% of 19's size at a twentieth of its time on registry events.
    public var sealedCompressionLevel: Int = 13
    /// Target plain bytes of one dense block (an independent zstd frame); at most 32 MiB.
    public var sealedBlockBytes: Int = 16 << 20
    /// At open, checksum every frame of every sealed segment (without decompressing). When
    /// false only their headers and seal frames are checked.
    public var checksumSealedSegmentsOnOpen: Bool = true
    /// Rewrite sealed segments densely in the background (readers read both forms).
    public var rewriteSealedSegments: Bool = true
    /// When set, the dense rewrite counts each segment's records by class and stores the counts
    /// in a tally frame before the seal (a version-2 segment, docs/FORMAT.md "Tally frame"), so
    /// `EventLogReader.segments()` reports them without reading a record. nil (the default)
    /// writes version-1 segments, as builds before the tally did.
    public var recordTally: RecordTally?

    public init(directory: String) {
        self.directory = directory
    }

    /// Throws `.invalidConfiguration` naming the first setting out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
            if !ok { throw EventLogError.invalidConfiguration(message()) }
        }
        try check(!directory.isEmpty, "directory is empty")
        try check(segmentBytesMax >= 4096, "segmentBytesMax \(segmentBytesMax) is below 4096")
        try check(segmentAgeSecondsMax >= 1, "segmentAgeSecondsMax \(segmentAgeSecondsMax) is below 1")
        try check(recordBytesMax >= 1, "recordBytesMax \(recordBytesMax) is below 1")
        try check(commitBytesMax <= 16 << 20, "commitBytesMax \(commitBytesMax) is above 16 MiB")
        try check(
            commitBytesMax >= recordBytesMax + 10,
            "commitBytesMax \(commitBytesMax) cannot hold one record of recordBytesMax \(recordBytesMax)")
        try check((1...22).contains(compressionLevel), "compressionLevel \(compressionLevel) is not in 1...22")
        try check(
            (1...22).contains(sealedCompressionLevel),
            "sealedCompressionLevel \(sealedCompressionLevel) is not in 1...22")
        try check(
            (4096...(32 << 20)).contains(sealedBlockBytes),
            "sealedBlockBytes \(sealedBlockBytes) is not in 4 KiB...32 MiB")
        if case .interval(let milliseconds) = fsync {
            try check(milliseconds >= 1, "fsync interval \(milliseconds) ms is below 1")
        }
    }
}

/// Where an appended record landed: its gap-free sequence (first is 1) and the commit's time.
public struct LogPosition: Sendable, Equatable, Hashable {
    public var sequence: UInt64
    public var timestampMicroseconds: Int64

    public init(sequence: UInt64, timestampMicroseconds: Int64) {
        self.sequence = sequence
        self.timestampMicroseconds = timestampMicroseconds
    }
}

/// One record read back from the log.
public struct LogRecord: Sendable, Equatable {
    public var sequence: UInt64
    public var timestampMicroseconds: Int64
    public var payload: [UInt8]

    public init(sequence: UInt64, timestampMicroseconds: Int64, payload: [UInt8]) {
        self.sequence = sequence
        self.timestampMicroseconds = timestampMicroseconds
        self.payload = payload
    }
}

/// Operating failures of the log, each naming what failed and where.
public enum EventLogError: Error, Equatable, CustomStringConvertible {
    case recordTooLarge(bytes: Int, limit: Int)
    case corruptSegment(file: String, offset: Int, sequence: UInt64?, reason: String)
    case locked(directory: String)
    case io(operation: String, path: String, errno: Int32)
    case closed
    /// A reader needed records from `neededSequence`, but retention removed the segments holding
    /// them after the reader was made; the log now begins at `firstSequence`.
    case removedByRetention(neededSequence: UInt64, firstSequence: UInt64)
    /// A setting out of range; the message names it and its value.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .recordTooLarge(let bytes, let limit):
            return "record of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case .corruptSegment(let file, let offset, let sequence, let reason):
            return "corrupt segment \(file) at offset \(offset)"
                + (sequence.map { " (sequence \($0))" } ?? "") + ": \(reason)"
        case .locked(let directory):
            return "log directory \(directory) is locked by another writer; stop it or use another --data-dir"
        case .io(let operation, let path, let errno):
            let reason = errno == 0 ? "" : ": \(String(cString: strerror(errno))) (errno \(errno))"
            return "\(operation) failed on \(path)\(reason); check the disk (space, permissions) and retry"
        case .closed:
            return "the log is closed"
        case .removedByRetention(let needed, let first):
            return "records from sequence \(needed) were removed by retention while this reader was reading them; "
                + "the log now begins at sequence \(first): read again from there or from a newer snapshot"
        case .invalidConfiguration(let message):
            return "invalid event log configuration: \(message)"
        }
    }
}

/// Counters of one writer since it opened (for metrics and log-bench).
public struct EventLogStatistics: Sendable, Equatable {
    /// Commits written (each one write and, under `.always`, one fdatasync).
    public var commits: UInt64 = 0
    /// Records in those commits.
    public var records: UInt64 = 0
    /// Commits that failed (their appenders got the error).
    public var failedCommits: UInt64 = 0
    /// Time spent encoding, compressing, writing and syncing commits.
    public var commitNanoseconds: UInt64 = 0

    public init() {}
}

/// How the dense rewrite sorts a log's records into the 16 slots of a segment's tally frame.
/// EventLog stores records as opaque bytes; the log's owner says what a slot means.
public struct RecordTally: Sendable {
    /// Slots of a tally frame; a classifier's answer outside `0..<slotCount` counts in the last.
    public static let slotCount = 16

    /// What the slots mean, chosen by the log's owner and stored in every tally frame, so a
    /// reader can tell counts it understands from others.
    public var scheme: UInt32
    /// The slot of a record, from its payload.
    public var classify: @Sendable (UnsafeRawBufferPointer) -> Int

    public init(scheme: UInt32, classify: @escaping @Sendable (UnsafeRawBufferPointer) -> Int) {
        self.scheme = scheme
        self.classify = classify
    }

    /// `classify`'s answer, clamped into the slots.
    func slot(_ payload: UnsafeRawBufferPointer) -> Int {
        let slot = classify(payload)
        return (0..<Self.slotCount).contains(slot) ? slot : Self.slotCount - 1
    }
}

/// A dense segment's record counts by slot, read from its tally frame.
public struct SegmentTally: Sendable, Equatable {
    /// The `RecordTally.scheme` the counts were made under.
    public var scheme: UInt32
    /// `RecordTally.slotCount` counts; their sum is the segment's record count.
    public var counts: [UInt64]

    public init(scheme: UInt32, counts: [UInt64]) {
        precondition(counts.count == RecordTally.slotCount, "a tally has 16 slots, got \(counts.count)")
        self.scheme = scheme
        self.counts = counts
    }
}

/// What a reader knows of one segment without decompressing it.
public struct SegmentInfo: Sendable, Equatable {
    /// The file name, e.g. `00000000000000000001.seg`.
    public var fileName: String
    public var bytes: Int
    public var firstSequence: UInt64
    /// 0 sequences/timestamps when the segment holds no commit yet.
    public var lastSequence: UInt64
    public var firstTimestampMicroseconds: Int64
    public var lastTimestampMicroseconds: Int64
    /// True once the segment is sealed (no longer appended).
    public var isSealed: Bool
    /// The records counted by slot, for a dense segment written with a `RecordTally`; nil otherwise.
    public var tally: SegmentTally?

    /// Where the tally frame starts in the file (docs/FORMAT.md "Tally frame"); nil without one.
    public var tallyFrameOffset: Int? {
        tally == nil ? nil : TallyFrame.offset(fileBytes: bytes)
    }

    public init(
        fileName: String, bytes: Int, firstSequence: UInt64, lastSequence: UInt64,
        firstTimestampMicroseconds: Int64, lastTimestampMicroseconds: Int64, isSealed: Bool,
        tally: SegmentTally? = nil
    ) {
        self.fileName = fileName
        self.bytes = bytes
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.firstTimestampMicroseconds = firstTimestampMicroseconds
        self.lastTimestampMicroseconds = lastTimestampMicroseconds
        self.isSealed = isSealed
        self.tally = tally
    }
}
