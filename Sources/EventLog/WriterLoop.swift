import Foundation
import Logging

/// One queued append: its records and the appender waiting for their position.
struct PendingAppend {
    var payloads: [[UInt8]]
    var plainBytes: Int
    var continuation: CheckedContinuation<LogPosition, any Error>
}

/// The group-commit loop: a dedicated thread takes everything queued (up to the commit size
/// limit) as one commit, writes and syncs it once, then resumes the appenders in sequence order.
/// A thread rather than a task, so a blocking fdatasync never occupies the cooperative pool.
final class WriterLoop: @unchecked Sendable {
    private let condition = Condition()
    private var pending: [PendingAppend] = []
    private var rotateRequests: [CheckedContinuation<Void, any Error>] = []
    private var closeRequested = false
    private var finished = false
    private var closeWaiters: [CheckedContinuation<Void, any Error>] = []
    private var closeResult: Result<Void, any Error> = .success(())
    private var acknowledgedSequence: UInt64
    private var statistics = EventLogStatistics()
    /// Appends in the last commit and its write + sync time: a commit that finds fewer queued
    /// waits briefly (at most half that time, at most 1 ms) for the rest, so resumed appenders
    /// that append again join one commit instead of alternating small and large ones.
    private var lastCommitAppends = 0
    private var lastCommitNanoseconds: UInt64 = 0
    /// Commits that fail their write on purpose (tests of the failure path).
    private var injectedWriteFailures = 0
    private let engine: WriterEngine
    private let commitBytesMax: Int

    init(engine: WriterEngine) {
        self.engine = engine
        self.commitBytesMax = engine.configuration.commitBytesMax
        self.acknowledgedSequence = engine.nextSequence - 1
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "EventLog.writer"
        thread.start()
    }

    var lastSequence: UInt64 {
        condition.withLock { acknowledgedSequence }
    }

    func injectWriteFailures(_ count: Int) {
        condition.withLock { injectedWriteFailures += count }
    }

    var currentStatistics: EventLogStatistics {
        condition.withLock { statistics }
    }

    func enqueue(_ append: PendingAppend) {
        let accepted = condition.withLock { () -> Bool in
            guard !closeRequested else { return false }
            pending.append(append)
            condition.signal()
            return true
        }
        if !accepted { append.continuation.resume(throwing: EventLogError.closed) }
    }

    func rotate() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let accepted = condition.withLock { () -> Bool in
                guard !closeRequested else { return false }
                rotateRequests.append(continuation)
                condition.signal()
                return true
            }
            if !accepted { continuation.resume(throwing: EventLogError.closed) }
        }
    }

    /// Asks the thread to finish what is queued, sync and stop; returns when it has.
    func close() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let result = condition.withLock { () -> Result<Void, any Error>? in
                closeRequested = true
                condition.signal()
                if finished { return closeResult }
                closeWaiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }

    private func run() {
        while let work = nextWork() {
            switch work {
            case .rotate(let requests):
                let result = Result { try engine.sealActive() }
                for request in requests { request.resume(with: result) }
            case .commit(let batch, let failingWrite):
                commit(batch, failingWrite: failingWrite)
            }
        }
        let result = Result { try engine.close() }
        let waiters = condition.withLock { () -> [CheckedContinuation<Void, any Error>] in
            finished = true
            closeResult = result
            defer { closeWaiters = [] }
            return closeWaiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    private enum Work {
        case commit([PendingAppend], failingWrite: Bool)
        case rotate([CheckedContinuation<Void, any Error>])
    }

    /// Waits for work; nil once closing and everything queued is done.
    private func nextWork() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && rotateRequests.isEmpty && !closeRequested {
            if let deadline = engine.syncDeadline() {
                if Condition.monotonicNanoseconds() >= deadline {
                    condition.unlock()
                    engine.syncPending()
                    condition.lock()
                } else {
                    condition.wait(untilMonotonicNanoseconds: deadline)
                }
            } else {
                condition.wait()
            }
        }
        if !rotateRequests.isEmpty {
            defer { rotateRequests = [] }
            return .rotate(rotateRequests)
        }
        if pending.isEmpty { return nil }
        if pending.count < lastCommitAppends && !closeRequested {
            let now = Condition.monotonicNanoseconds()
            let deadline = now + min(lastCommitNanoseconds / 2, 1_000_000)
            while pending.count < lastCommitAppends && !closeRequested
                && Condition.monotonicNanoseconds() < deadline
            {
                condition.wait(untilMonotonicNanoseconds: deadline)
            }
        }
        var count = 0
        var bytes = 0
        for append in pending {
            if count > 0 && bytes + append.plainBytes > commitBytesMax { break }
            bytes += append.plainBytes
            count += 1
        }
        let batch = Array(pending[0..<count])
        pending.removeFirst(count)
        let failingWrite = injectedWriteFailures > 0
        if failingWrite { injectedWriteFailures -= 1 }
        return .commit(batch, failingWrite: failingWrite)
    }

    private func commit(_ batch: [PendingAppend], failingWrite: Bool) {
        let started = Condition.monotonicNanoseconds()
        do {
            let first = try engine.commit(batch.map(\.payloads), failingWrite: failingWrite)
            let records = batch.reduce(0) { $0 + $1.payloads.count }
            let last = first.sequence + UInt64(records) - 1
            let elapsed = Condition.monotonicNanoseconds() - started
            condition.withLock {
                acknowledgedSequence = last
                lastCommitAppends = batch.count
                lastCommitNanoseconds = elapsed
                statistics.commits += 1
                statistics.records += UInt64(records)
                statistics.commitNanoseconds += elapsed
            }
            var sequence = first.sequence
            for append in batch {
                append.continuation.resume(
                    returning: LogPosition(sequence: sequence, timestampMicroseconds: first.timestampMicroseconds))
                sequence += UInt64(append.payloads.count)
            }
        } catch {
            engine.logger.error(
                "commit failed; its appenders get the error",
                metadata: ["log.appends": "\(batch.count)", "log.error": "\(error)"])
            condition.withLock {
                statistics.failedCommits += 1
                lastCommitAppends = 0
            }
            for append in batch { append.continuation.resume(throwing: error) }
        }
    }
}
