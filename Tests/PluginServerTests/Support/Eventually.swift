/// Polls `condition` until it holds or `seconds` have passed, then checks once more, so a busy
/// machine slows a test down instead of failing it. Returns whether the condition held.
func eventually(
    seconds: Double = ServerProcess.waitSeconds,
    every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
