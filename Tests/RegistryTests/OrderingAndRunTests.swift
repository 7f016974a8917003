import EventLog
import FileStore
import Synchronization
import Testing

@testable import Registry

/// A store whose append of service id "slow" returns only after a later append of "fast"
/// returned, so the later append resumes first whatever the machine's load.
final class DelayingStore: RegistryEventStore {
    let inner: InMemoryEventStore
    /// Fired when "slow" is in the log (its append has not returned yet).
    let slowAppended = OneShotSignal()
    let fastAppended = OneShotSignal()

    init(inner: InMemoryEventStore) {
        self.inner = inner
    }

    func append(_ payloads: [[UInt8]]) async throws -> StorePosition {
        let position = try await inner.append(payloads)
        let first = try EventCodec.decode(StoreRecord(sequence: 1, timeMicroseconds: 0, payload: payloads[0]))
        if first.service.id == "slow" {
            slowAppended.fire()
            await fastAppended.wait()
        }
        if first.service.id == "fast" { fastAppended.fire() }
        return position
    }

    func read(fromSequence sequence: UInt64, _ body: (StoreRecord) throws -> Void) async throws {
        try await inner.read(fromSequence: sequence, body)
    }

    func durableSequence() async throws -> UInt64 { try await inner.durableSequence() }

    func recover() async throws { try await inner.recover() }

    func close() async throws { try await inner.close() }
}

@Suite struct OrderingAndRunTests {
    // Proves records are folded in sequence order when appends resume out of order: a later
    // append waits for the earlier one and both land.
    @Test func outOfOrderResumesFoldInOrder() async throws {
        let harness = try Harness()
        defer { harness.directory.remove() }
        let store = DelayingStore(inner: harness.store)
        let registry = try await Registry.open(
            harness.configuration, store: store, snapshots: harness.snapshots, logger: quietLogger)
        async let slow: Void = registry.register(service("slow"), peer: peerV4)
        await store.slowAppended.wait()
        try await registry.register(service("fast"), peer: peerV4)
        let afterFast = await registry.currentProjection
        #expect(afterFast.lastSequence == 3)
        #expect(afterFast.liveServices(at: harness.clock.now()).map(\.service.id) == ["fast", "slow"])
        try await slow
        var replayed = Projection()
        for event in try harness.events() { replayed.apply(event) }
        #expect(await registry.currentProjection == replayed)
    }

    // Proves run() sweeps lapsed leases by itself and ends when cancelled. The clock moves on
    // only after run() swept at the current instant, so a slow machine never looks like a stall.
    @Test func runSweepsUntilCancelled() async throws {
        var harness = try Harness(leaseSeconds: 10)
        defer { harness.directory.remove() }
        harness.configuration.sweepIntervalMicroseconds = 2_000
        let registry = try await harness.open()
        try await registry.register(service("a"), peer: peerV4)
        let runner = Task { try await registry.run() }
        var expired = false
        for _ in 0..<100 where !expired {
            harness.clock.advance(seconds: 0.25)
            let now = harness.clock.now()
            let deadline = ContinuousClock.now + .seconds(120)
            while await registry.lastSweepAtMicroseconds < now && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(await registry.lastSweepAtMicroseconds >= now, "run() did not sweep within 120 s")
            expired = try harness.events().contains { $0.kind == .expire }
        }
        runner.cancel()
        try await runner.value
        #expect(expired)
        #expect(try harness.events().allSatisfy { $0.kind != .stall })
        #expect(try await registry.get(name: "tunnel-a").isEmpty)
    }
}

/// A one-time event tasks can wait for; waiting after it fired returns at once.
final class OneShotSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let fired = state.withLock { state in
                if state.fired { return true }
                state.waiters.append(continuation)
                return false
            }
            if fired { continuation.resume() }
        }
    }
}
