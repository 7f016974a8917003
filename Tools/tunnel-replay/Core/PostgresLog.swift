import Logging
import Registry
import SharedLog
import Synchronization

/// A cluster's shared log (`--postgres URL`) opened read-only through `SharedLogReader`, with a
/// blocking face for the synchronous commands. Records arrive in chunks read on the concurrency
/// pool and handed to the calling thread, so `body` closures run where the command runs.
final class PostgresLog: Sendable {
    let reader: SharedLogReader
    /// What messages name instead of a directory (never the URL: it may hold a password).
    let label: String

    private init(reader: SharedLogReader, label: String) {
        self.reader = reader
        self.label = label
    }

    /// Records handed over per database round of reading (bounds memory on any log).
    static let chunkRecords = 65_536

    /// Connects; a bad URL, an unreachable database or a database without a shared log becomes
    /// one exit-2 line from `SharedLogError` (it names host and database).
    static func open(url: String) throws(ReplayError) -> PostgresLog {
        let logger = quietLogger()
        do {
            let reader = try Blocking.run { try await SharedLogReader.open(url: url, logger: logger) }
            let log = PostgresLog(reader: reader, label: "the shared log (--postgres)")
            opened.withLock { $0.append(log) }
            return log
        } catch {
            throw .unreadable(Self.message(error, doing: "cannot open the shared log given by --postgres"))
        }
    }

    /// The highest committed sequence and its commit time.
    func head() throws(ReplayError) -> StorePosition {
        let reader = reader
        do {
            return try Blocking.run { try await reader.head() }
        } catch {
            throw .readFailed(Self.message(error, doing: "reading the head of the shared log failed"))
        }
    }

    /// Calls `body` with each record from `sequence` on, in order, until it returns false or
    /// the records committed by now end.
    func read(fromSequence sequence: UInt64, _ body: (StoreRecord) throws -> Bool) throws {
        var next = max(sequence, 1)
        while true {
            let chunk = try self.chunk(from: next)
            for record in chunk {
                guard try body(record) else { return }
            }
            guard let last = chunk.last, chunk.count >= Self.chunkRecords else { return }
            next = last.sequence + 1
        }
    }

    /// The sequence of the first record committed at or after `time` (nil: none yet).
    func firstSequence(atOrAfter time: Int64) throws(ReplayError) -> UInt64? {
        let reader = reader
        do {
            return try Blocking.run {
                var found: UInt64?
                do {
                    try await reader.read(fromTime: time) { record in
                        found = record.sequence
                        throw ChunkFull()
                    }
                } catch is ChunkFull {}
                return found
            }
        } catch {
            throw .readFailed(Self.message(error, doing: "finding the first record at \(Timestamp.format(time)) failed"))
        }
    }

    /// The stored snapshots, newest first (none when they cannot be listed: the fold then starts
    /// at the first record).
    func snapshots() -> [SharedLogReader.SnapshotInfo] {
        let reader = reader
        do {
            return try Blocking.run { try await reader.snapshots() }
        } catch {
            Diagnostics.warn(Self.message(error, doing: "listing the snapshots failed; replaying without them"))
            return []
        }
    }

    /// The projection stored as the snapshot at `sequence`.
    func snapshot(atSequence sequence: UInt64) throws -> Projection {
        let reader = reader
        return try Blocking.run { try await reader.snapshot(atSequence: sequence) }
    }

    /// The newest stored snapshot whose projection satisfies `accept` (an empty projection when
    /// none); damaged snapshots are skipped with a warning.
    func newestSnapshot(where accept: (Projection) -> Bool) -> Projection {
        for info in snapshots() {
            do {
                let projection = try snapshot(atSequence: info.sequence)
                if accept(projection) { return projection }
            } catch {
                Diagnostics.warn("snapshot \(info.sequence) skipped: \(Self.text(error))")
            }
        }
        return Projection()
    }

    /// Every log opened by this process; `closeAll` closes them before it exits (a connection
    /// must be closed before it is released).
    private static let opened = Mutex<[PostgresLog]>([])

    /// Closes every shared log the command opened; `TunnelReplay.run` calls it once the command ends.
    static func closeAll() {
        let logs = opened.withLock { logs in
            defer { logs.removeAll() }
            return logs
        }
        for log in logs {
            let reader = log.reader
            _ = try? Blocking.run { await reader.close() }
        }
    }

    private func chunk(from sequence: UInt64) throws -> [StoreRecord] {
        let reader = reader
        do {
            return try Blocking.run {
                var records: [StoreRecord] = []
                do {
                    try await reader.read(fromSequence: sequence) { record in
                        records.append(record)
                        if records.count >= PostgresLog.chunkRecords { throw ChunkFull() }
                    }
                } catch is ChunkFull {}
                return records
            }
        } catch {
            throw ReplayError.readFailed(Self.message(error, doing: "reading the shared log from sequence \(sequence) failed"))
        }
    }

    /// `doing: cause` in one line; a `SharedLogError` already says what to do.
    static func message(_ error: any Error, doing: String) -> String {
        doing + ": " + text(error)
    }

    static func text(_ error: any Error) -> String {
        if let shared = error as? SharedLogError { return shared.description }
        return "\(error)"
    }

    /// The error thrown is the one line to show; the client's own logs would only repeat it.
    static func quietLogger() -> Logger {
        var logger = StderrLogging.logger(label: "tunnel-replay.postgres")
        logger.logLevel = .critical
        return logger
    }

    /// Stops a read once a chunk is full.
    private struct ChunkFull: Error {}
}
