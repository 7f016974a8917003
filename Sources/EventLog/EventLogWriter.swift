import Logging
import Synchronization

/// The single writer of a log directory: group-commits concurrent appends.
///
/// Appends are queued to one writer thread that turns everything queued into one commit (one
/// write, one fdatasync under `.always`), assigns gap-free sequences starting at 1 and a commit
/// timestamp that never goes back, and resumes each appender once its commit is durable.
/// Appenders are resumed in sequence order; each learns its sequence from the returned position.
public final class EventLogWriter: Sendable {
    /// The settings this writer was opened with.
    public let configuration: EventLogConfiguration
    private let loop: WriterLoop
    private let sealer: Sealer
    private let lock: DirectoryLock
    /// What recovery decoded of the newest segment, until taken (`takeRecoveredTail`).
    private let recoveredTail: Mutex<RecoveredTail?>

    private init(
        configuration: EventLogConfiguration, loop: WriterLoop, sealer: Sealer, lock: DirectoryLock,
        recoveredTail: RecoveredTail?
    ) {
        self.configuration = configuration
        self.loop = loop
        self.sealer = sealer
        self.lock = lock
        self.recoveredTail = Mutex(recoveredTail)
    }

    /// Opens (creating if needed) the directory, takes the writer lock and recovers the tail.
    /// `clock` returns wall-clock microseconds; commit timestamps never go backwards.
    ///
    /// Throws `.locked` when another writer holds the directory, `.corruptSegment` when a sealed
    /// segment is damaged (see `repair(directory:logger:)`), `.invalidConfiguration` for bad limits.
    ///
    /// With `retainingRecordsFrom`, the records from that sequence on that recovery decoded anyway
    /// (those of the newest segment) are kept for `takeRecoveredTail()`.
    public static func open(
        _ configuration: EventLogConfiguration,
        logger: Logger,
        retainingRecordsFrom: UInt64? = nil,
        clock: @escaping @Sendable () -> Int64
    ) async throws -> EventLogWriter {
        try configuration.validate()
        try FileIO.makeDirectories(configuration.directory)
        let lock = try DirectoryLock.acquire(directory: configuration.directory)
        do {
            let recovered = try Recovery.recover(
                configuration: configuration, logger: logger, retainingFrom: retainingRecordsFrom)
            let rewriter = DenseRewriter(
                directory: configuration.directory, level: configuration.sealedCompressionLevel,
                blockBytes: configuration.sealedBlockBytes, tally: configuration.recordTally)
            let sealer = Sealer(rewriter: rewriter, logger: logger)
            let engine = WriterEngine(
                configuration: configuration, logger: logger, clock: clock, recovered: recovered,
                onSealed: { if configuration.rewriteSealedSegments { sealer.enqueue($0) } })
            if configuration.rewriteSealedSegments {
                for fileName in recovered.streamFormSealed { sealer.enqueue(fileName) }
                // After the rewrites, oldest first: a log written without a tally gets its tallies.
                if configuration.recordTally != nil {
                    for fileName in recovered.untalliedDense { sealer.enqueueTally(fileName) }
                }
            }
            let loop = WriterLoop(engine: engine)
            sealer.start()
            loop.start()
            logger.debug(
                "opened event log",
                metadata: [
                    "log.directory": "\(configuration.directory)", "log.next_sequence": "\(recovered.nextSequence)",
                ])
            return EventLogWriter(
                configuration: configuration, loop: loop, sealer: sealer, lock: lock, recoveredTail: recovered.tail)
        } catch {
            lock.release()
            throw error
        }
    }

    /// Appends one record; returns once it is durable under the configured policy.
    /// Throws `.recordTooLarge` (for this appender only), `.io` when the commit failed, `.closed`.
    public func append(_ payload: [UInt8]) async throws -> LogPosition {
        try await append(contentsOf: [payload])
    }

    /// Appends records in one commit with contiguous sequences; returns the first's position.
    public func append(contentsOf payloads: [[UInt8]]) async throws -> LogPosition {
        precondition(!payloads.isEmpty, "append(contentsOf:) needs at least one record")
        var plainBytes = 0
        for payload in payloads {
            guard payload.count <= configuration.recordBytesMax else {
                throw EventLogError.recordTooLarge(bytes: payload.count, limit: configuration.recordBytesMax)
            }
            plainBytes += Varint.size(UInt64(payload.count)) + payload.count
        }
        guard plainBytes <= configuration.commitBytesMax else {
            throw EventLogError.recordTooLarge(bytes: plainBytes, limit: configuration.commitBytesMax)
        }
        return try await withCheckedThrowingContinuation { continuation in
            loop.enqueue(PendingAppend(payloads: payloads, plainBytes: plainBytes, continuation: continuation))
        }
    }

    /// The highest sequence acknowledged to an appender (0 when the log is empty). Under
    /// `.always` it is durable; under `.interval`/`.never` it is written.
    public var lastSequence: UInt64 { loop.lastSequence }

    /// The records recovery decoded at open from the sequence `open` was asked to retain from (the
    /// newest segment's, to the log's end then), once; nil after the first call, when none were
    /// asked for, or when they were too many to keep (`RecoveredTail`).
    public func takeRecoveredTail() -> RecoveredTail? {
        recoveredTail.withLock { tail in
            defer { tail = nil }
            return tail
        }
    }

    /// Counters since open: commits, records, time spent writing and syncing.
    public var statistics: EventLogStatistics { loop.currentStatistics }

    /// Makes the next `count` commits fail half-way through their write (tests only).
    func injectWriteFailures(_ count: Int) {
        loop.injectWriteFailures(count)
    }

    /// Seals the active segment now (the next append starts a new one) and queues its dense rewrite.
    public func rotate() async throws {
        try await loop.rotate()
    }

    /// Removes, oldest first, the sealed segments whose last sequence is at most `sequence` and
    /// whose last record is older than `timeMicroseconds`, stopping at the first that is not;
    /// never the newest segment. Runs between dense rewrites, so it never races one. The caller
    /// decides what may go (a snapshot must cover `sequence`: README, "Data directory").
    /// Throws `.io` when a file cannot be removed (those removed before stay removed), `.closed`.
    public func removeSegments(
        throughSequence sequence: UInt64, endingBefore timeMicroseconds: Int64
    ) async throws -> RetentionOutcome {
        let directory = configuration.directory
        return try await sealer.perform {
            try Retention.removeSegments(
                directory: directory, throughSequence: sequence, endingBefore: timeMicroseconds)
        }
    }

    /// Waits until every queued dense rewrite of sealed segments (and tally frame added to a
    /// version-1 dense segment) has finished.
    public func waitForSealing() async {
        await sealer.waitUntilIdle()
    }

    /// Flushes, fsyncs, and releases the lock. Later appends throw `.closed`. A dense rewrite in
    /// progress finishes first; queued ones are redone at the next open.
    public func close() async throws {
        do {
            try await loop.close()
        } catch {
            await sealer.stop()
            lock.release()
            throw error
        }
        await sealer.stop()
        lock.release()
    }
}
