import Synchronization

/// Runs `body`, giving up after `seconds`: then `onTimeout` runs (it closes the connection the
/// body waits on, so the body ends too) and a `timeout` error naming `what` is thrown. The caller
/// is answered at the deadline whether or not the body has ended: a body that does not react to
/// cancellation (a statement on a connection that never answers, a connect task) cannot hold the
/// caller past it. Cancelling the caller ends the wait at once, as a timeout.
@discardableResult
func withTimeout<T: Sendable>(
    seconds: Double, what: @autoclosure @escaping @Sendable () -> String, onTimeout: @escaping @Sendable () -> Void = {},
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard seconds > 0 else { throw SharedLogError(.timeout, "\(what()): no time left (timeout already passed)") }
    let race = TimeoutRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.begin(continuation)
            let work = Task {
                do {
                    race.finish(.success(try await body()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            race.arm(
                Task {
                    try? await Task.sleep(for: .seconds(seconds))
                    let timedOut = race.finish(
                        .failure(SharedLogError(.timeout, "\(what()): no answer within \(formatSeconds(seconds)) s")))
                    if timedOut {
                        onTimeout()
                        work.cancel()
                    }
                })
        }
    } onCancel: {
        race.expireNow()
    }
}

/// The state of one `withTimeout`: whoever finishes first (the body or the timer) answers the
/// caller; the other finds nothing to answer. The timer is cancelled once the body answered.
private final class TimeoutRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var timer: Task<Void, Never>?
        var answered = false
        var cancelled = false
    }

    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    /// Keeps the timer so that a body that answers first (or a cancelled caller) can stop it.
    func arm(_ timer: Task<Void, Never>) {
        let stopNow = state.withLock { state -> Bool in
            state.timer = timer
            return state.answered || state.cancelled
        }
        if stopNow { timer.cancel() }
    }

    /// Answers the caller unless already answered; returns whether this call answered.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (continuation, timer) = state.withLock { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?) in
            guard !state.answered, let continuation = state.continuation else { return (nil, nil) }
            state.answered = true
            state.continuation = nil
            return (continuation, state.timer)
        }
        guard let continuation else { return false }
        timer?.cancel()
        continuation.resume(with: result)
        return true
    }

    /// The caller was cancelled: the timer fires now (its sleep ends at once).
    func expireNow() {
        let timer = state.withLock { state -> Task<Void, Never>? in
            state.cancelled = true
            return state.timer
        }
        timer?.cancel()
    }
}

/// Seconds with at most two decimals, for messages.
func formatSeconds(_ seconds: Double) -> String {
    let hundredths = (seconds * 100).rounded()
    return hundredths.truncatingRemainder(dividingBy: 100) == 0
        ? "\(Int(hundredths / 100))" : "\(hundredths / 100)"
}
