// CONTRACT SKELETON: the public surface of EventLog that Registry and the tools build on.
// The EventLog owner replaces these bodies with the real implementation (and may split the
// file); signatures may grow but should not change shape without telling the other owners.
import Logging

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
    public var segmentBytesMax: Int = 64 << 20
    public var segmentAgeSecondsMax: Int = 3600
    public var recordBytesMax: Int = 64 << 10
    public var commitBytesMax: Int = 4 << 20

    public init(directory: String) {
        self.directory = directory
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
            return "\(operation) failed on \(path): errno \(errno)"
        case .closed:
            return "the log is closed"
        }
    }
}

/// The single writer of a log directory: group-commits concurrent appends.
public final class EventLogWriter: Sendable {
    /// Opens (creating if needed) the directory, takes the writer lock and recovers the tail.
    /// `clock` returns wall-clock microseconds; commit timestamps never go backwards.
    public static func open(
        _ configuration: EventLogConfiguration,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) async throws -> EventLogWriter {
        fatalError("EventLogWriter.open is not implemented yet")
    }

    /// Appends one record; returns once it is durable under the configured policy.
    public func append(_ payload: [UInt8]) async throws -> LogPosition {
        fatalError("not implemented")
    }

    /// Appends records in one commit with contiguous sequences; returns the first's position.
    public func append(contentsOf payloads: [[UInt8]]) async throws -> LogPosition {
        fatalError("not implemented")
    }

    /// The highest sequence known durable (0 when the log is empty).
    public var lastSequence: UInt64 { fatalError("not implemented") }

    /// Flushes, fsyncs, and releases the lock. Later appends throw `.closed`.
    public func close() async throws {
        fatalError("not implemented")
    }
}

/// Reads a log directory without a lock, also while a writer appends to it.
public struct EventLogReader: Sendable {
    public init(directory: String) throws {
        fatalError("not implemented")
    }

    /// A cursor positioned at the first record with sequence ≥ `sequence`.
    public func cursor(fromSequence sequence: UInt64) throws -> LogCursor {
        fatalError("not implemented")
    }

    /// Every segment, oldest first, described from its header (no decompression).
    public func segments() throws -> [SegmentInfo] {
        fatalError("not implemented")
    }

    /// Reads every segment whole and returns each problem found (empty when healthy).
    public func verify() -> [EventLogError] {
        fatalError("not implemented")
    }

    /// A cursor positioned at the first record with timestamp ≥ `timestampMicroseconds`.
    public func cursor(fromTimestamp timestampMicroseconds: Int64) throws -> LogCursor {
        fatalError("not implemented")
    }
}

/// Iterates records in sequence order. `next()` returns nil at the last whole commit;
/// calling it again later returns records appended since.
public struct LogCursor: Sendable {
    public mutating func next() throws -> LogRecord? {
        fatalError("not implemented")
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

    public init(
        fileName: String, bytes: Int, firstSequence: UInt64, lastSequence: UInt64,
        firstTimestampMicroseconds: Int64, lastTimestampMicroseconds: Int64, isSealed: Bool
    ) {
        self.fileName = fileName
        self.bytes = bytes
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.firstTimestampMicroseconds = firstTimestampMicroseconds
        self.lastTimestampMicroseconds = lastTimestampMicroseconds
        self.isSealed = isSealed
    }
}
