/// Runs `body`, giving up after `seconds`: then `onTimeout` runs (it closes the connection the
/// body waits on, so the body ends too) and a `timeout` error naming `what` is thrown.
@discardableResult
func withTimeout<T: Sendable>(
    seconds: Double, what: @autoclosure () -> String, onTimeout: @Sendable () -> Void = {},
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard seconds > 0 else { throw SharedLogError(.timeout, "\(what()): no time left (timeout already passed)") }
    let result = try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { return T?.none }
        return first
    }
    guard let result else {
        onTimeout()
        throw SharedLogError(.timeout, "\(what()): no answer within \(formatSeconds(seconds)) s")
    }
    return result
}

/// Seconds with at most two decimals, for messages.
func formatSeconds(_ seconds: Double) -> String {
    let hundredths = (seconds * 100).rounded()
    return hundredths.truncatingRemainder(dividingBy: 100) == 0
        ? "\(Int(hundredths / 100))" : "\(hundredths / 100)"
}
