import Foundation
import Logging

/// The background thread that rewrites sealed segments densely, one at a time, in seal order.
final class Sealer: @unchecked Sendable {
    private let condition = Condition()
    private var jobs: [String] = []
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
            jobs.append(fileName)
            condition.signal()
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
        while let job = nextJob() {
            do {
                if let outcome = try rewriter.rewrite(fileName: job) {
                    logger.debug(
                        "rewrote sealed segment densely",
                        metadata: [
                            "log.file": "\(job)", "log.bytes_before": "\(outcome.bytesBefore)",
                            "log.bytes_after": "\(outcome.bytesAfter)", "log.records": "\(outcome.records)",
                        ])
                }
            } catch {
                logger.warning(
                    "could not rewrite a sealed segment densely; it stays in the stream form, readable as is",
                    metadata: ["log.file": "\(job)", "log.error": "\(error)"])
            }
            finishJob()
        }
        let waiters = condition.withLock { () -> [CheckedContinuation<Void, Never>] in
            stopped = true
            defer {
                idleWaiters = []
                stopWaiters = []
            }
            return idleWaiters + stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func nextJob() -> String? {
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
