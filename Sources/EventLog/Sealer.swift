import Foundation
import Logging

/// The background thread that rewrites sealed segments densely, one at a time, in seal order, and
/// adds tally frames to version-1 dense ones. Other work on sealed segments (retention) runs on
/// the same thread, so it never races a rewrite.
final class Sealer: @unchecked Sendable {
    /// One unit of work of the thread.
    private enum Job {
        case rewrite(String)
        /// A version-1 dense segment to give a tally frame (`DenseRewriter.addTally`).
        case addTally(String)
        /// `run` on the thread, or `cancel` when the sealer stops first.
        case task(run: @Sendable () -> Void, cancel: @Sendable () -> Void)
    }

    private let condition = Condition()
    private var jobs: [Job] = []
    private var running = false
    private var stopRequested = false
    private var stopped = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private let rewriter: DenseRewriter
    private let logger: Logger
    /// Rewrites done (for tests and log-bench).
    private var completed = 0

    init(rewriter: DenseRewriter, logger: Logger) {
        self.rewriter = rewriter
        self.logger = logger
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "EventLog.sealer"
        thread.start()
    }

    func enqueue(_ fileName: String) {
        condition.withLock {
            guard !stopRequested else { return }
            jobs.append(.rewrite(fileName))
            condition.signal()
        }
    }

    /// Queues a sealed version-1 dense segment for its tally frame.
    func enqueueTally(_ fileName: String) {
        condition.withLock {
            guard !stopRequested else { return }
            jobs.append(.addTally(fileName))
            condition.signal()
        }
    }

    /// Runs `body` on the sealer thread between rewrites. Throws `.closed` once the sealer stopped.
    func perform<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = condition.withLock { () -> Bool in
                guard !stopRequested else { return false }
                jobs.append(
                    .task(
                        run: { continuation.resume(with: Result { try body() }) },
                        cancel: { continuation.resume(throwing: EventLogError.closed) }))
                condition.signal()
                return true
            }
            if !accepted { continuation.resume(throwing: EventLogError.closed) }
        }
    }

    /// Returns once no rewrite is queued or running.
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = condition.withLock { () -> Bool in
                if stopped || (jobs.isEmpty && !running) { return true }
                idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Stops after the rewrite in progress; queued ones are redone at the next open.
    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = condition.withLock { () -> Bool in
                stopRequested = true
                condition.signal()
                if stopped { return true }
                stopWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func run() {
        while let next = nextJob() {
            switch next {
            case .rewrite(let fileName): rewrite(fileName)
            case .addTally(let fileName): addTally(fileName)
            case .task(let body, _): body()
            }
            finishJob()
        }
        let (waiters, dropped) = condition.withLock { () -> ([CheckedContinuation<Void, Never>], [Job]) in
            stopped = true
            defer {
                idleWaiters = []
                stopWaiters = []
                jobs = []
            }
            return (idleWaiters + stopWaiters, jobs)
        }
        for case .task(_, let cancel) in dropped { cancel() }
        for waiter in waiters { waiter.resume() }
    }

    private func rewrite(_ fileName: String) {
        logOutcome(
            fileName, { try $0.rewrite(fileName: fileName) }, done: "rewrote sealed segment densely",
            failed: "could not rewrite a sealed segment densely; it stays in the stream form, readable as is")
    }

    private func addTally(_ fileName: String) {
        logOutcome(
            fileName, { try $0.addTally(fileName: fileName) },
            done: "added a tally frame to a version-1 dense segment",
            failed: """
                could not add a tally frame to a version-1 dense segment; it stays as it is (tunnel-replay stats \
                reads it record by record); run tunnel-replay verify on the data directory
                """)
    }

    /// Runs one rewrite of `fileName`, logging what it did (debug) or why it failed (warning: the
    /// segment stays as it was).
    private func logOutcome(
        _ fileName: String, _ work: (DenseRewriter) throws -> DenseRewriter.Outcome?, done: String, failed: String
    ) {
        do {
            if let outcome = try work(rewriter) {
                logger.debug(
                    "\(done)",
                    metadata: [
                        "log.file": "\(fileName)", "log.bytes_before": "\(outcome.bytesBefore)",
                        "log.bytes_after": "\(outcome.bytesAfter)", "log.records": "\(outcome.records)",
                    ])
            }
        } catch {
            logger.warning("\(failed)", metadata: ["log.file": "\(fileName)", "log.error": "\(error)"])
        }
    }

    private func nextJob() -> Job? {
        condition.withLock {
            while jobs.isEmpty && !stopRequested { condition.wait() }
            if stopRequested { return nil }
            running = true
            return jobs.removeFirst()
        }
    }

    private func finishJob() {
        let waiters = condition.withLock { () -> [CheckedContinuation<Void, Never>] in
            running = false
            completed += 1
            guard jobs.isEmpty else { return [] }
            defer { idleWaiters = [] }
            return idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
