import Logging
import Synchronization

/// A `RegistryEventStore` in memory, for tests. Failures can be switched on to act out a full
/// disk (`recover()` fails while they are on). Opened `shared`, several registries can use one
/// store as cluster instances do a shared log: each sees the others' records through
/// `records(after:)`, and `setLeader(_:)` decides which may sweep.
public final class InMemoryEventStore: RegistryEventStore {
    private struct State {
        var records: [StoreRecord] = []
        var lastTimestamp: Int64 = 0
        var failing: String?
        var followers: [UInt64: AsyncThrowingStream<[StoreRecord], any Error>.Continuation] = [:]
        var nextFollower: UInt64 = 0
    }

    /// The records and followers, shared by every handle of one store.
    private final class Storage: Sendable {
        let state = Mutex(State())
    }

    private let storage: Storage
    private let clock: @Sendable () -> Int64
    private let leader: Mutex<Bool>
    private let closed = Mutex(false)
    public let isShared: Bool

    /// `clock` stamps commits (wall-clock microseconds); stamps never go backwards.
    public init(clock: @escaping @Sendable () -> Int64, shared: Bool = false, leader: Bool = true) {
        self.storage = Storage()
        self.clock = clock
        self.isShared = shared
        self.leader = Mutex(leader)
    }

    private init(storage: Storage, clock: @escaping @Sendable () -> Int64, leader: Bool) {
        self.storage = storage
        self.clock = clock
        self.isShared = true
        self.leader = Mutex(leader)
    }

    /// Another handle on the same records, as a second cluster instance holds: its own
    /// leadership and close, the records, failures and followers shared.
    public func handle(leader: Bool) -> InMemoryEventStore {
        InMemoryEventStore(storage: storage, clock: clock, leader: leader)
    }

    /// While set, appends and `recover()` throw this reason.
    public func setFailure(_ reason: String?) {
        storage.state.withLock { $0.failing = reason }
    }

    /// Whether `leadsSweeper()` answers true (and `appendAsLeader` succeeds).
    public func setLeader(_ leads: Bool) {
        leader.withLock { $0 = leads }
    }

    /// Every record appended so far.
    public var records: [StoreRecord] {
        storage.state.withLock { $0.records }
    }

    public func append(_ payloads: [[UInt8]]) async throws -> StorePosition {
        let now = clock()
        if closed.withLock({ $0 }) { throw InMemoryStoreFailure(reason: "the store is closed") }
        return try storage.state.withLock { state throws -> StorePosition in
            if let reason = state.failing { throw InMemoryStoreFailure(reason: reason) }
            let timestamp = max(now, state.lastTimestamp)
            state.lastTimestamp = timestamp
            let first = UInt64(state.records.count) + 1
            var batch: [StoreRecord] = []
            for (index, payload) in payloads.enumerated() {
                batch.append(StoreRecord(sequence: first + UInt64(index), timeMicroseconds: timestamp, payload: payload))
            }
            state.records += batch
            for follower in state.followers.values { follower.yield(batch) }
            return StorePosition(sequence: first, timeMicroseconds: timestamp)
        }
    }

    public func read(fromSequence sequence: UInt64, _ body: (StoreRecord) throws -> Void) async throws {
        let snapshot = records
        let start = Int(min(max(sequence, 1) - 1, UInt64(snapshot.count)))
        for record in snapshot[start...] {
            try body(record)
        }
    }

    public func durableSequence() async throws -> UInt64 {
        storage.state.withLock { UInt64($0.records.count) }
    }

    public func recover() async throws {
        try storage.state.withLock { state throws in
            if let reason = state.failing { throw InMemoryStoreFailure(reason: reason) }
        }
        closed.withLock { $0 = false }
    }

    public func close() async throws {
        closed.withLock { $0 = true }
    }

    public func records(after sequence: UInt64) -> AsyncThrowingStream<[StoreRecord], any Error> {
        guard isShared else { return AsyncThrowingStream { $0.finish() } }
        let (stream, continuation) = AsyncThrowingStream<[StoreRecord], any Error>.makeStream()
        let key = storage.state.withLock { state in
            let backlog = state.records.filter { $0.sequence > sequence }
            if !backlog.isEmpty { continuation.yield(backlog) }
            let key = state.nextFollower
            state.nextFollower += 1
            state.followers[key] = continuation
            return key
        }
        let storage = self.storage
        continuation.onTermination = { _ in
            storage.state.withLock { $0.followers[key] = nil }
        }
        return stream
    }

    public func leadsSweeper() async -> Bool {
        leader.withLock { $0 }
    }

    public func appendAsLeader(_ payloads: [[UInt8]]) async throws -> StorePosition {
        guard leader.withLock({ $0 }) else {
            throw NotSweeperLeaderError(reason: "the in-memory store's leadership was taken away")
        }
        return try await append(payloads)
    }
}

/// Why the in-memory store refused: the reason set by the test.
public struct InMemoryStoreFailure: Error, Equatable, CustomStringConvertible {
    public var reason: String

    public var description: String { "in-memory store: \(reason)" }
}

/// Snapshots in memory, for tests.
public final class InMemorySnapshotStore: RegistrySnapshotStore {
    private let snapshots = Mutex<[UInt64: Projection]>([:])

    public init() {}

    /// Sequences of the snapshots held, oldest first.
    public var sequences: [UInt64] { snapshots.withLock { $0.keys.sorted() } }

    public func loadNewest(atOrBefore sequence: UInt64, logger: Logger) async -> Projection? {
        snapshots.withLock { held in
            held.keys.filter { $0 <= sequence }.max().flatMap { held[$0] }
        }
    }

    public func write(_ projection: Projection, keep: Int) async throws -> Int {
        snapshots.withLock { held in
            held[projection.lastSequence] = projection
            for old in held.keys.sorted().dropLast(max(1, keep)) { held[old] = nil }
        }
        return projection.snapshotBytes().count
    }
}
