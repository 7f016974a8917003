import Registry
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The tail: every batch after a sequence, as committed by any instance, in order and gap-free.
/// It LISTENs for the notification each append sends, reads `first_seq > last` on each one and
/// at least every `pollSeconds` (notifications are lost while disconnected), and on connection
/// loss reconnects, listens again and catches up. A gap is logged as an error and read again,
/// never skipped. With `own`, the commits this store acknowledged are left out: the cursor moves
/// over them without a read, a notification from one of this store's writer sessions wakes no
/// read, and a read that meets them does not decode them.
struct Tail: Sendable {
    let connector: Connector
    let pollSeconds: Double
    let statementSeconds: Double
    let metrics: SharedLogMetrics
    let own: OwnCommits?
    let logger: Logger

    /// The stream `records(after:)` returns; it ends when the consumer stops or on a damaged row.
    func stream(after sequence: UInt64) -> AsyncThrowingStream<[StoreRecord], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[StoreRecord], any Error>.makeStream()
        let task = Task { await run(after: sequence, continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private final class Cursor {
        var last: UInt64
        init(_ last: UInt64) { self.last = last }
    }

    private func run(after sequence: UInt64, _ continuation: AsyncThrowingStream<[StoreRecord], any Error>.Continuation)
        async
    {
        let cursor = Cursor(sequence)
        var backoffSeconds = 0.1
        while !Task.isCancelled {
            do {
                let connection = try await connector.connect()
                defer { connection.closeInBackground() }
                backoffSeconds = 0.1
                try await follow(connection, cursor, continuation)
            } catch let error as ReadProblem {
                if case .corrupt = error {
                    continuation.finish(throwing: error.error(label: connector.url.label))
                    return
                }
            } catch {
                if Task.isCancelled { break }
                metrics.databaseError()
                logger.warning(
                    "shared log tail lost its connection; reconnecting",
                    metadata: ["error": "\(connector.describe(error, while: "following the log"))"])
            }
            try? await Task.sleep(for: .seconds(backoffSeconds))
            backoffSeconds = min(backoffSeconds * 2, pollSeconds)
        }
        continuation.finish()
    }

    /// LISTEN, then catch up on every notification and poll tick until the connection fails.
    private func follow(
        _ connection: PostgresConnection, _ cursor: Cursor,
        _ continuation: AsyncThrowingStream<[StoreRecord], any Error>.Continuation
    ) async throws {
        let pollSeconds = pollSeconds
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        // Whether something other than this store's acknowledged commits may be waiting.
        let mustRead = ReadFlag()
        let own = own
        let listening = connection.addListener(channel: Schema.channel) { _, notification in
            if own?.isOwnWriter(notification.backendPID) != true { mustRead.raise() }
            wake.yield()
        }
        let follower = own?.follow { wake.yield() }
        connection.closeFuture.whenComplete { _ in wake.finish() }
        defer {
            listening.stop()
            if let follower { own?.unfollow(follower) }
        }
        // The LISTEN goes out before this query: once it answers, no commit goes unnotified.
        try await connection.query("SELECT 1", logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(pollSeconds))
                    mustRead.raise()
                    wake.yield()
                }
            }
            wake.yield()
            for await _ in wakes {
                if let own {
                    let through = own.skip(after: cursor.last)
                    if through > cursor.last {
                        cursor.last = through
                        metrics.tailLag(seconds: 0)
                    }
                    guard mustRead.take() else { continue }
                }
                try await catchUp(connection, cursor, continuation)
            }
            group.cancelAll()
            throw SharedLogError(.unavailable, "\(connector.url.label): the notification stream ended")
        }
    }

    /// Reads and delivers everything after `cursor.last` that is committed now.
    private func catchUp(
        _ connection: PostgresConnection, _ cursor: Cursor,
        _ continuation: AsyncThrowingStream<[StoreRecord], any Error>.Continuation
    ) async throws {
        let own = own
        while true {
            let last = cursor.last
            let logger = logger
            let (rows, head) = try await withTimeout(
                seconds: statementSeconds, what: "\(connector.url.label): reading the log",
                onTimeout: { connection.closeInBackground() }
            ) { try await LogQueries.rows(after: last, on: connection, logger: logger) }
            let (records, through, problem) = recordsAfter(last, in: rows, head: head) { row in
                own?.contains(first: row.firstSequence, count: row.count) ?? false
            }
            cursor.last = through
            if let newest = records.last {
                continuation.yield(records)
                let nowMicroseconds = Int64(Date().timeIntervalSince1970 * 1_000_000)
                metrics.tailLag(seconds: Double(max(0, nowMicroseconds - newest.timeMicroseconds)) / 1e6)
            }
            metrics.tailLag(records: head >= cursor.last ? head - cursor.last : 0)
            if let problem {
                if case .gap(let expected, let found) = problem {
                    metrics.databaseError()
                    logger.error(
                        "GAP in the shared log: sequence \(expected) missing, next row starts at \(found); reading again",
                        metadata: ["log.expected": "\(expected)", "log.found": "\(found)"])
                    return
                }
                throw problem
            }
            if cursor.last >= head {
                if records.isEmpty { metrics.tailLag(seconds: 0) }
                return
            }
        }
    }
}

/// Whether the tail must read: raised by a notification from another session and by the poll
/// tick, taken (and lowered) by the tail before it reads.
private final class ReadFlag: Sendable {
    private let raised = Atomic<Bool>(true)

    func raise() { raised.store(true, ordering: .sequentiallyConsistent) }

    func take() -> Bool { raised.exchange(false, ordering: .sequentiallyConsistent) }
}
