import EventLog
import Logging
import Registry

/// Reads a data directory's events decoded, without the writer lock (the replay tool's
/// entry point): events from a sequence or a time, and the projection as it was at any
/// sequence or instant (newest usable snapshot + the records after it).
public struct RegistryLogReader: Sendable {
    public let dataDirectory: String
    /// The raw log (segments, verify).
    public let log: EventLogReader
    /// The snapshots of the data directory.
    public let snapshots: SnapshotStore

    public init(dataDirectory: String) throws {
        self.dataDirectory = dataDirectory
        self.log = try EventLogReader(directory: dataDirectory + "/log")
        self.snapshots = SnapshotStore(directory: dataDirectory + "/snapshots")
    }

    /// Events with sequence ≥ `sequence`, in order.
    public func events(fromSequence sequence: UInt64 = 1) throws -> RegistryEventCursor {
        RegistryEventCursor(cursor: try log.cursor(fromSequence: max(sequence, 1)))
    }

    /// Events with time ≥ `timeMicroseconds`, in order.
    public func events(fromTimestamp timeMicroseconds: Int64) throws -> RegistryEventCursor {
        RegistryEventCursor(cursor: try log.cursor(fromTimestamp: timeMicroseconds))
    }

    /// The projection after folding every record with sequence ≤ `sequence`. Throws
    /// `HistoryRemovedError` when retention removed records the fold needs.
    public func projection(atSequence sequence: UInt64, logger: Logger = RegistryLogReader.quietLogger) throws
        -> Projection
    {
        var projection = snapshots.loadNewestValid(atOrBefore: sequence, logger: logger) ?? Projection()
        var cursor = try retainedEvents(foldingAfter: projection.lastSequence)
        while projection.lastSequence < sequence, let event = try retained({ try cursor.next() }) {
            guard event.sequence <= sequence else { break }
            projection.apply(event)
        }
        return projection
    }

    /// The projection after folding every record with time ≤ `timeMicroseconds`: ask it
    /// `liveServices(at: timeMicroseconds)` for what Get answered then. Throws
    /// `HistoryRemovedError` when the instant is before what retention kept.
    public func projection(atTime timeMicroseconds: Int64, logger: Logger = RegistryLogReader.quietLogger) throws
        -> Projection
    {
        var start = Projection()
        for sequence in (try? snapshots.sequences())?.reversed() ?? [] {
            guard let info = try? snapshots.info(sequence: sequence), info.lastTimeMicroseconds <= timeMicroseconds
            else {
                continue
            }
            do {
                start = try snapshots.load(sequence: sequence)
                break
            } catch {
                logger.warning("snapshot skipped", metadata: ["snapshot.sequence": "\(sequence)", "error": "\(error)"])
            }
        }
        var projection = start
        var cursor = try retainedEvents(foldingAfter: projection.lastSequence)
        while let event = try retained({ try cursor.next() }), event.timeMicroseconds <= timeMicroseconds {
            projection.apply(event)
        }
        return projection
    }

    /// Throws `HistoryRemovedError` when folding the records after `sequence` (a snapshot's, 0
    /// for none) would need records retention removed.
    public func checkRetained(foldingAfter sequence: UInt64) throws(HistoryRemovedError) {
        guard let first = try? log.firstSequence(), first > sequence + 1 else { return }
        let oldest = (try? snapshots.sequences())?.lazy.filter { $0 + 1 >= first }
            .compactMap { try? snapshots.info(sequence: $0) }.first
        throw HistoryRemovedError(
            firstSequence: first, neededSequence: sequence + 1,
            replayableFromMicroseconds: oldest?.lastTimeMicroseconds, retention: snapshots.recordedRetention())
    }

    /// The events after `sequence`, checked against retention once the cursor exists: a cursor
    /// starts at the log's first record when older ones are gone, so checking before making it
    /// would miss a removal in between. A removal later surfaces from `retained`.
    private func retainedEvents(foldingAfter sequence: UInt64) throws -> RegistryEventCursor {
        let cursor = try events(fromSequence: sequence + 1)
        try checkRetained(foldingAfter: sequence)
        return cursor
    }

    /// Runs `body`, turning the log's `.removedByRetention` (retention removed records this fold
    /// was about to read) into `HistoryRemovedError`.
    private func retained<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch EventLogError.removedByRetention(let needed, let first) {
            throw HistoryRemovedError(
                firstSequence: first, neededSequence: needed, retention: snapshots.recordedRetention())
        }
    }

    /// A logger that drops everything.
    public static let quietLogger = Logger(label: "registry.reader", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// Decoded events in sequence order. `next()` returns nil at the last whole commit; calling
/// it again later returns events appended since.
public struct RegistryEventCursor: Sendable {
    var cursor: LogCursor

    /// The next event; throws `EventDecodingError` or the log's error.
    public mutating func next() throws -> RegistryEvent? {
        guard let record = try cursor.next() else { return nil }
        return try EventCodec.decode(record)
    }
}

extension EventCodec {
    /// The event a local log record holds.
    public static func decode(_ record: LogRecord) throws(EventDecodingError) -> RegistryEvent {
        try decode(payload: record.payload, sequence: record.sequence, timeMicroseconds: record.timestampMicroseconds)
    }
}
