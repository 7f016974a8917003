import Registry
import Logging
import Synchronization

/// Group commit: callers queue their payloads; a drain takes every waiting caller (whole callers,
/// up to `recordsMax` records) and appends them in ONE statement, so a caller's payloads stay
/// contiguous and concurrent callers share one round trip and one commit. Up to `lanes` drains
/// run at once, each on its own connection (lane): while one statement waits for its commit, the
/// next group forms and is already queued at the database behind the head row, so the head row is
/// handed on at once instead of after a round trip to this process. The head row keeps sequences
/// dense and in commit order whichever lane commits first. Each caller answers within
/// `timeoutSeconds` of queueing: a drain only spends the time its oldest caller has left.
final class GroupCommitter: Sendable {
    private struct Waiter {
        var payloads: [[UInt8]]
        var queuedAt: ContinuousClock.Instant
        var continuation: CheckedContinuation<StorePosition, any Error>
    }

    private struct State {
        var waiting: [Waiter] = []
        var idleLanes: [Int]
        var closed = false
    }

    /// Appends one group's payloads on connection `lane` within `seconds`; returns the first record's position.
    typealias Commit = @Sendable (_ lane: Int, _ payloads: [[UInt8]], _ seconds: Double) async throws -> StorePosition

    private let state: Mutex<State>
    private let commit: Commit
    private let timeoutSeconds: Double
    private let recordsMax: Int

    init(timeoutSeconds: Double, recordsMax: Int, lanes: Int, commit: @escaping Commit) {
        precondition(lanes >= 1, "a group committer needs at least one lane, got \(lanes)")
        self.timeoutSeconds = timeoutSeconds
        self.recordsMax = recordsMax
        self.commit = commit
        state = Mutex(State(idleLanes: Array((0..<lanes).reversed())))
    }

    func append(_ payloads: [[UInt8]]) async throws -> StorePosition {
        precondition(!payloads.isEmpty, "append needs at least one payload")
        return try await withCheckedThrowingContinuation { continuation in
            let waiter = Waiter(payloads: payloads, queuedAt: .now, continuation: continuation)
            let start = state.withLock { state -> Int?? in
                guard !state.closed else { return .none }
                state.waiting.append(waiter)
                return .some(state.idleLanes.popLast())
            }
            switch start {
            case .none: continuation.resume(throwing: SharedLogError(.closed, "the shared log store is closed"))
            case .some(let lane?): Task { await self.drain(lane: lane) }
            case .some(nil): break
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

    private func drain(lane: Int) async {
        while true {
            let group = state.withLock { state -> [Waiter] in
                var taken = 0
                var records = 0
                for waiter in state.waiting {
                    if taken > 0 && records + waiter.payloads.count > recordsMax { break }
                    taken += 1
                    records += waiter.payloads.count
                }
                if taken == 0 { state.idleLanes.append(lane) }
                defer { state.waiting.removeFirst(taken) }
                return Array(state.waiting.prefix(taken))
            }
            if group.isEmpty { return }
            await run(group, lane: lane)
        }
    }

    private func run(_ group: [Waiter], lane: Int) async {
        let oldest = group.map(\.queuedAt).min() ?? .now
        let left = timeoutSeconds - (ContinuousClock.now - oldest).secondsValue
        let payloads = group.flatMap(\.payloads)
        do {
            let first = try await commit(lane, payloads, left)
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
