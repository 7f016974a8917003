import EventLog
import Logging
import Registry
import Synchronization

/// The Registry's store on the real event log in `directory`: appends go to an
/// `EventLogWriter`, reads to an `EventLogReader`. The writer survives a failed commit by
/// itself (it cuts the commit off and goes on), so after an I/O error `recover()` does nothing
/// and the next append is the probe; after any other failure (the writer closed, a damaged
/// segment) it closes the writer and opens a new one, which recovers the tail.
public final class EventLogStore: RegistryEventStore {
    private let configuration: EventLogConfiguration
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private let writer: Mutex<EventLogWriter?>
    /// Set when an append failed in a way the writer does not heal by itself.
    private let needsReopen = Mutex(false)
    /// The totals of writers closed by `recover()` or `close()`, so `writeStatistics` never falls.
    private let retiredStatistics = Mutex(StoreWriteStatistics())

    /// What the writer's recovery decoded at open, for the first read (`RecoveredTail`).
    private let recoveredTail: Mutex<RecoveredTail?>

    /// Opens (creating if needed) the log directory and takes its writer lock. With
    /// `retainingRecordsFrom` (the sequence the first read will start at, e.g. after the newest
    /// snapshot) the records recovery decodes from there on are kept for that read, which then
    /// does not decompress the newest segment again.
    public static func open(
        _ configuration: EventLogConfiguration, logger: Logger, retainingRecordsFrom: UInt64? = nil,
        clock: @escaping @Sendable () -> Int64
    ) async throws -> EventLogStore {
        let writer = try await EventLogWriter.open(
            configuration, logger: logger, retainingRecordsFrom: retainingRecordsFrom, clock: clock)
        return EventLogStore(
            configuration: configuration, logger: logger, clock: clock, writer: writer,
            recoveredTail: writer.takeRecoveredTail())
    }

    private init(
        configuration: EventLogConfiguration, logger: Logger, clock: @escaping @Sendable () -> Int64,
        writer: EventLogWriter, recoveredTail: RecoveredTail?
    ) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.writer = Mutex(writer)
        self.recoveredTail = Mutex(recoveredTail)
    }

    /// Drops the records kept from open if no read took them (they are only for the first).
    public func discardRecoveredTail() {
        recoveredTail.withLock { $0 = nil }
    }

    private func currentWriter() throws -> EventLogWriter {
        guard let writer = writer.withLock({ $0 }) else { throw EventLogError.closed }
        return writer
    }

    public func append(_ payloads: [[UInt8]]) async throws -> StorePosition {
        do {
            let writer = try currentWriter()
            let position =
                payloads.count == 1
                ? try await writer.append(payloads[0]) : try await writer.append(contentsOf: payloads)
            return StorePosition(sequence: position.sequence, timeMicroseconds: position.timestampMicroseconds)
        } catch {
            switch error as? EventLogError {
            case .io?, .recordTooLarge?: break
            default: needsReopen.withLock { $0 = true }
            }
            throw error
        }
    }

    public func read(fromSequence sequence: UInt64, _ body: (StoreRecord) throws -> Void) async throws {
        try await readPayloads(fromSequence: sequence) { sequence, time, payload in
            try body(StoreRecord(sequence: sequence, timeMicroseconds: time, payload: Array(payload)))
        }
    }

    public func readPayloads(
        fromSequence sequence: UInt64,
        _ body: (_ sequence: UInt64, _ timeMicroseconds: Int64, _ payload: UnsafeRawBufferPointer) throws -> Void
    ) async throws {
        let start = max(sequence, 1)
        let tail = recoveredTail.withLock { tail in
            defer { tail = nil }
            return tail
        }
        guard let tail, start >= tail.firstSequence, start <= tail.lastSequence &+ 1 else {
            try readLog(fromSequence: start, body)
            return
        }
        // The newest segment, which retention never removes, holds the records from `start` on.
        try tail.forEach(fromSequence: start, body)
        // Records appended since open (or, with the writer closed, possibly) come from the files.
        let last = try? currentWriter().lastSequence
        if last.map({ $0 > tail.lastSequence }) ?? true {
            try readLog(fromSequence: tail.lastSequence + 1, body)
        }
    }

    /// Reads the log's files from `start`, each commit's records in place.
    private func readLog(
        fromSequence start: UInt64, _ body: (UInt64, Int64, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let reader = try EventLogReader(directory: configuration.directory)
        // Checked after the cursor exists: it starts at the log's first record when older ones are
        // gone, so a removal between a check and the cursor would go unseen.
        var cursor = try reader.cursor(fromSequence: start)
        if let first = try reader.firstSequence(), first > start {
            throw HistoryRemovedError(firstSequence: first, neededSequence: start, retention: nil)
        }
        while let batch = try cursor.nextBatch() {
            try batch.forEach { sequence, time, payload in
                try body(sequence, time, payload)
                return true
            }
        }
    }

    public func durableSequence() async throws -> UInt64 {
        (try? currentWriter().lastSequence) ?? 0
    }

    public func recover() async throws {
        let reopen = needsReopen.withLock { $0 } || writer.withLock { $0 == nil }
        guard reopen else { return }
        let old = writer.withLock { current -> EventLogWriter? in
            defer { current = nil }
            return current
        }
        if let old {
            do {
                try await old.close()
            } catch {
                logger.warning("closing the failed log writer failed", metadata: ["error": "\(error)"])
            }
            retire(old)
        }
        let reopened = try await EventLogWriter.open(configuration, logger: logger, clock: clock)
        writer.withLock { $0 = reopened }
        discardRecoveredTail()
        needsReopen.withLock { $0 = false }
        logger.notice("event log writer reopened", metadata: ["log.directory": "\(configuration.directory)"])
    }

    /// Removes old sealed segments (`EventLogWriter.removeSegments`); the caller checked that
    /// a snapshot covers `sequence` (`LogRetention`).
    public func removeSegments(
        throughSequence sequence: UInt64, endingBefore timeMicroseconds: Int64
    ) async throws -> RetentionOutcome {
        try await currentWriter().removeSegments(throughSequence: sequence, endingBefore: timeMicroseconds)
    }

    public func close() async throws {
        let old = writer.withLock { current -> EventLogWriter? in
            defer { current = nil }
            return current
        }
        defer { if let old { retire(old) } }
        try await old?.close()
    }

    public var writeStatistics: StoreWriteStatistics? {
        let current = writer.withLock { $0 }.map { Self.totals($0.statistics) } ?? StoreWriteStatistics()
        return retiredStatistics.withLock { $0 } + current
    }

    /// Adds a closed writer's totals to the retired ones.
    private func retire(_ old: EventLogWriter) {
        let totals = Self.totals(old.statistics)
        retiredStatistics.withLock { $0 = $0 + totals }
    }

    private static func totals(_ statistics: EventLogStatistics) -> StoreWriteStatistics {
        StoreWriteStatistics(
            commits: statistics.commits, records: statistics.records, commitNanoseconds: statistics.commitNanoseconds)
    }
}
