import EventLog
import FileStore
import Testing

@testable import Registry

/// A store whose appends of service id "slow" return late, so later appends resume first.
final class DelayingStore: RegistryEventStore {
    let inner: InMemoryEventStore

    init(inner: InMemoryEventStore) {
        self.inner = inner
    }

    func append(_ payloads: [[UInt8]]) async throws -> StorePosition {
        let position = try await inner.append(payloads)
        let first = try EventCodec.decode(StoreRecord(sequence: 1, timeMicroseconds: 0, payload: payloads[0]))
        if first.service.id == "slow" { try await Task.sleep(for: .milliseconds(100)) }
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
        let registry = try await Registry.open(
            harness.configuration, store: DelayingStore(inner: harness.store), snapshots: harness.snapshots,
            logger: quietLogger)
        async let slow: Void = registry.register(service("slow"), peer: peerV4)
        try await Task.sleep(for: .milliseconds(20))
        try await registry.register(service("fast"), peer: peerV4)
        let afterFast = await registry.currentProjection
        #expect(afterFast.lastSequence == 3)
        #expect(afterFast.liveServices(at: harness.clock.now()).map(\.service.id) == ["fast", "slow"])
        try await slow
        var replayed = Projection()
        for event in try harness.events() { replayed.apply(event) }
        #expect(await registry.currentProjection == replayed)
    }

    // Proves run() sweeps lapsed leases by itself and ends when cancelled.
    @Test func runSweepsUntilCancelled() async throws {
        var harness = try Harness(leaseSeconds: 10)
        defer { harness.directory.remove() }
        harness.configuration.sweepIntervalMicroseconds = 2_000
        let registry = try await harness.open()
        try await registry.register(service("a"), peer: peerV4)
        let runner = Task { try await registry.run() }
        var expired = false
        for _ in 0..<400 where !expired {
            harness.clock.advance(seconds: 0.25)
            try await Task.sleep(for: .milliseconds(5))
            expired = try harness.events().contains { $0.kind == .expire }
        }
        runner.cancel()
        try await runner.value
        #expect(expired)
        #expect(try harness.events().allSatisfy { $0.kind != .stall })
        #expect(try await registry.get(name: "tunnel-a").isEmpty)
    }
}
