import Logging

/// Where a commit landed in a store: the sequence of its first record and the commit time every
/// record of the commit carries.
public struct StorePosition: Sendable, Equatable, Hashable {
    public var sequence: UInt64
    public var timeMicroseconds: Int64

    public init(sequence: UInt64, timeMicroseconds: Int64) {
        self.sequence = sequence
        self.timeMicroseconds = timeMicroseconds
    }
}

/// One record as a store holds it: its gap-free sequence, its commit time and the payload
/// `EventCodec` encoded.
public struct StoreRecord: Sendable, Equatable {
    public var sequence: UInt64
    public var timeMicroseconds: Int64
    public var payload: [UInt8]

    public init(sequence: UInt64, timeMicroseconds: Int64, payload: [UInt8]) {
        self.sequence = sequence
        self.timeMicroseconds = timeMicroseconds
        self.payload = payload
    }
}

/// The log as the Registry sees it. The Registry imports no store: the embedded local log
/// (module FileStore), the shared log in PostgreSQL (module SharedLog) and the in-memory store
/// of the tests all plug in here (docs/ARCHITECTURE.md, "The store boundary").
public protocol RegistryEventStore: Sendable {
    /// Appends the payloads as one commit with contiguous sequences and returns the first's
    /// position once durable. Throws when the log cannot be written.
    func append(_ payloads: [[UInt8]]) async throws -> StorePosition

    /// Calls `body` with every durable record whose sequence is at least `sequence`, in order.
    func read(fromSequence sequence: UInt64, _ body: (StoreRecord) throws -> Void) async throws

    /// `read(fromSequence:_:)` that lends each record's payload in place (valid only during the
    /// call) rather than copying it into a `StoreRecord`: the fold at open reads so.
    func readPayloads(
        fromSequence sequence: UInt64,
        _ body: (_ sequence: UInt64, _ timeMicroseconds: Int64, _ payload: UnsafeRawBufferPointer) throws -> Void
    ) async throws

    /// The highest durable sequence (0 when empty).
    func durableSequence() async throws -> UInt64

    /// Makes appends possible again after one failed. Throws while the cause persists.
    func recover() async throws

    /// Flushes and releases the store.
    func close() async throws

    /// True when other processes append to the same log (cluster mode).
    var isShared: Bool { get }

    /// Batches of records with sequence above `sequence`, in sequence order, as any writer commits
    /// them. This process's own may be included (the Registry skips what it folded) or left out,
    /// but only those `append` acknowledged: the Registry folds them from `append`'s answer.
    func records(after sequence: UInt64) -> AsyncThrowingStream<[StoreRecord], any Error>

    /// True while this process may append lease expiry (in a cluster: the sweeper leader).
    func leadsSweeper() async -> Bool

    /// Appends expiry and control records over the leader's fenced path: throws once
    /// leadership is lost, so a deposed leader cannot expire a lease.
    func appendAsLeader(_ payloads: [[UInt8]]) async throws -> StorePosition

    /// What this process's log writer has done since the store opened (for `/metrics`), or nil
    /// when the store does not count its commits.
    var writeStatistics: StoreWriteStatistics? { get }
}

/// The commits one store has written since it opened: how many, their records, and the time the
/// writer spent on them (encoding, compressing, writing and syncing). Totals only grow.
public struct StoreWriteStatistics: Sendable, Equatable {
    public var commits: UInt64
    public var records: UInt64
    public var commitNanoseconds: UInt64

    public init(commits: UInt64 = 0, records: UInt64 = 0, commitNanoseconds: UInt64 = 0) {
        self.commits = commits
        self.records = records
        self.commitNanoseconds = commitNanoseconds
    }

    /// The sum of two writers' totals (a store that reopened its writer adds the old one's).
    public static func + (lhs: StoreWriteStatistics, rhs: StoreWriteStatistics) -> StoreWriteStatistics {
        StoreWriteStatistics(
            commits: lhs.commits + rhs.commits, records: lhs.records + rhs.records,
            commitNanoseconds: lhs.commitNanoseconds + rhs.commitNanoseconds)
    }
}

extension RegistryEventStore {
    public var isShared: Bool { false }

    public func readPayloads(
        fromSequence sequence: UInt64,
        _ body: (_ sequence: UInt64, _ timeMicroseconds: Int64, _ payload: UnsafeRawBufferPointer) throws -> Void
    ) async throws {
        try await read(fromSequence: sequence) { record in
            try record.payload.withUnsafeBytes { try body(record.sequence, record.timeMicroseconds, $0) }
        }
    }

    public func records(after sequence: UInt64) -> AsyncThrowingStream<[StoreRecord], any Error> {
        AsyncThrowingStream { $0.finish() }
    }

    public func leadsSweeper() async -> Bool { true }

    public func appendAsLeader(_ payloads: [[UInt8]]) async throws -> StorePosition {
        try await append(payloads)
    }

    public var writeStatistics: StoreWriteStatistics? { nil }
}

/// Thrown by `appendAsLeader` when this process does not (or no longer) lead the sweeper: the
/// records were not appended, and the store itself is fine.
public struct NotSweeperLeaderError: Error, Equatable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "not the lease sweeper leader: \(reason)" }
}

/// Where snapshots of the projection live (a directory, or a table of the shared log).
public protocol RegistrySnapshotStore: Sendable {
    /// The newest snapshot at or before `sequence` that loads; damaged ones are skipped and logged.
    func loadNewest(atOrBefore sequence: UInt64, logger: Logger) async -> Projection?

    /// Stores `projection` as the snapshot at its `lastSequence`, keeps the newest `keep`, and
    /// returns the bytes stored.
    func write(_ projection: Projection, keep: Int) async throws -> Int
}
