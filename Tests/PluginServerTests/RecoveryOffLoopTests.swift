import Logging
import NIOCore
import NIOPosix
import Registry
import Synchronization
import Testing

@testable import PluginServer

/// A failed log is reopened with blocking file I/O; the gRPC front's calls run on NIO's event
/// loops, which must never block.
@Suite struct RecoveryOffLoopTests {
    // Proves a mutation that reopens a failed log, made from a call pinned to an event loop as
    // the gRPC front makes it, runs the store's recover on the global pool, not on the loop.
    @Test func recoveryStartedFromALoopRunsOffTheLoops() async throws {
        let clock = TestClock()
        let inner = InMemoryEventStore(clock: clock.closure)
        let store = LoopNotingStore(inner)
        var configuration = RegistryConfiguration(dataDirectory: "unused-in-memory")
        configuration.clock = clock.closure
        let registry = try await Registry.open(
            configuration, store: store, snapshots: InMemorySnapshotStore(),
            logger: Logger(label: "tests", factory: { _ in SwiftLogNoOpLogHandler() }))
        let service = Service(id: "c1", name: "tunnel-a", node: "node-1", network: "tcp", address: ":80")
        let peer = Peer(ip: "127.0.0.1", port: 40_000)
        inner.setFailure("disk full")
        await #expect(throws: RegistryError.self) { try await registry.register(service, peer: peer) }
        inner.setFailure(nil)
        clock.advance(microseconds: configuration.recoveryIntervalMicroseconds + 1)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await withTaskExecutorPreference(EventLoopTaskExecutor(pinnedTo: group.next())) {
            try await registry.register(service, peer: peer)
        }
        try await group.shutdownGracefully()
        #expect(store.recoveriesOnALoop == [false], "recover ran on an event loop: \(store.recoveriesOnALoop)")
        #expect(try await registry.get(name: "tunnel-a").map(\.id) == ["c1"])
    }
}

/// A clock the test moves by hand.
private final class TestClock: Sendable {
    private let now = Mutex<Int64>(1_800_000_000_000_000)

    var closure: @Sendable () -> Int64 { { self.now.withLock { $0 } } }

    func advance(microseconds: Int64) {
        now.withLock { $0 += microseconds }
    }
}

/// The Registry's in-memory store, noting for each `recover()` whether it ran on an event loop.
private final class LoopNotingStore: RegistryEventStore {
    private let inner: InMemoryEventStore
    private let recoveries = Mutex<[Bool]>([])

    init(_ inner: InMemoryEventStore) {
        self.inner = inner
    }

    var recoveriesOnALoop: [Bool] { recoveries.withLock { $0 } }
    var isShared: Bool { inner.isShared }

    func recover() async throws {
        let onALoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
        recoveries.withLock { $0.append(onALoop) }
        try await inner.recover()
    }

    func append(_ payloads: [[UInt8]]) async throws -> StorePosition { try await inner.append(payloads) }
    func read(fromSequence sequence: UInt64, _ body: (StoreRecord) throws -> Void) async throws {
        try await inner.read(fromSequence: sequence, body)
    }
    func durableSequence() async throws -> UInt64 { try await inner.durableSequence() }
    func close() async throws { try await inner.close() }
    func records(after sequence: UInt64) -> AsyncThrowingStream<[StoreRecord], any Error> {
        inner.records(after: sequence)
    }
    func leadsSweeper() async -> Bool { await inner.leadsSweeper() }
    func appendAsLeader(_ payloads: [[UInt8]]) async throws -> StorePosition { try await inner.appendAsLeader(payloads) }
}
