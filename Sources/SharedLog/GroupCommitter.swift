import Registry
import Logging
import Synchronization

/// Group commit: callers queue their payloads; one drain at a time takes every waiting caller
/// (whole callers, up to `recordsMax` records) and appends them in ONE statement, so a caller's
/// payloads stay contiguous and concurrent callers share one round trip and one commit. Each
/// caller answers within `timeoutSeconds` of queueing: a drain only spends the time its oldest
/// caller has left.
final class GroupCommitter: Sendable {
    private struct Waiter {
        var payloads: [[UInt8]]
        var queuedAt: ContinuousClock.Instant
        var continuation: CheckedContinuation<StorePosition, any Error>
    }

    private struct State {
        var waiting: [Waiter] = []
        var draining = false
        var closed = false
    }

    /// Appends one group's payloads within `seconds`; returns the first record's position.
    typealias Commit = @Sendable (_ payloads: [[UInt8]], _ seconds: Double) async throws -> StorePosition

    private let state = Mutex(State())
    private let commit: Commit
    private let timeoutSeconds: Double
    private let recordsMax: Int

    init(timeoutSeconds: Double, recordsMax: Int, commit: @escaping Commit) {
        self.timeoutSeconds = timeoutSeconds
        self.recordsMax = recordsMax
        self.commit = commit
    }

    func append(_ payloads: [[UInt8]]) async throws -> StorePosition {
        precondition(!payloads.isEmpty, "append needs at least one payload")
        return try await withCheckedThrowingContinuation { continuation in
            let waiter = Waiter(payloads: payloads, queuedAt: .now, continuation: continuation)
            let start = state.withLock { state -> Bool? in
                guard !state.closed else { return nil }
                state.waiting.append(waiter)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            switch start {
            case nil: continuation.resume(throwing: SharedLogError(.closed, "the shared log store is closed"))
            case true?: Task { await self.drain() }
            case false?: break
            }
        }
    }

    /// Fails every waiting caller and refuses new ones.
    func close() {
        let waiting = state.withLock { state in
            state.closed = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiting {
            waiter.continuation.resume(throwing: SharedLogError(.closed, "the shared log store is closed"))
        }
    }

    private func drain() async {
        while true {
            let group = state.withLock { state -> [Waiter] in
                var taken = 0
                var records = 0
                for waiter in state.waiting {
                    if taken > 0 && records + waiter.payloads.count > recordsMax { break }
                    taken += 1
                    records += waiter.payloads.count
                }
                if taken == 0 { state.draining = false }
                defer { state.waiting.removeFirst(taken) }
                return Array(state.waiting.prefix(taken))
            }
            if group.isEmpty { return }
            await run(group)
        }
    }

    private func run(_ group: [Waiter]) async {
        let oldest = group.map(\.queuedAt).min() ?? .now
        let left = timeoutSeconds - (ContinuousClock.now - oldest).secondsValue
        let payloads = group.flatMap(\.payloads)
        do {
            let first = try await commit(payloads, left)
            var sequence = first.sequence
            for waiter in group {
                waiter.continuation.resume(
                    returning: StorePosition(sequence: sequence, timeMicroseconds: first.timeMicroseconds))
                sequence += UInt64(waiter.payloads.count)
            }
        } catch {
            for waiter in group { waiter.continuation.resume(throwing: error) }
        }
    }
}
