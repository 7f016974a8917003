import EventLog
import Synchronization

/// A `RegistryEventStore` in memory, for tests: failures can be switched on to act out a
/// full disk, and `recover()` fails while they are on.
public final class InMemoryEventStore: RegistryEventStore {
    private struct State {
        var records: [LogRecord] = []
        var lastTimestamp: Int64 = 0
        var failing: String?
        var closed = false
    }

    private let state = Mutex(State())
    private let clock: @Sendable () -> Int64

    /// `clock` stamps commits (wall-clock microseconds); stamps never go backwards.
    public init(clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
    }

    /// While set, appends and `recover()` throw this reason (as `EventLogError.io`).
    public func setFailure(_ reason: String?) {
        state.withLock { $0.failing = reason }
    }

    /// Every record appended so far.
    public var records: [LogRecord] {
        state.withLock { $0.records }
    }

    public func append(_ payloads: [[UInt8]]) async throws -> LogPosition {
        let now = clock()
        return try state.withLock { state throws -> LogPosition in
            if state.closed { throw EventLogError.closed }
            if let reason = state.failing {
                throw EventLogError.io(operation: "write (\(reason))", path: "memory", errno: 28)
            }
            let timestamp = max(now, state.lastTimestamp)
            state.lastTimestamp = timestamp
            let first = UInt64(state.records.count) + 1
            for (index, payload) in payloads.enumerated() {
                state.records.append(
                    LogRecord(sequence: first + UInt64(index), timestampMicroseconds: timestamp, payload: payload))
            }
            return LogPosition(sequence: first, timestampMicroseconds: timestamp)
        }
    }

    public func read(fromSequence sequence: UInt64, _ body: (LogRecord) throws -> Void) throws {
        let snapshot = records
        let start = Int(min(max(sequence, 1) - 1, UInt64(snapshot.count)))
        for record in snapshot[start...] {
            try body(record)
        }
    }

    public var durableSequence: UInt64 {
        state.withLock { UInt64($0.records.count) }
    }

    public func recover() async throws {
        try state.withLock { state throws in
            if let reason = state.failing {
                throw EventLogError.io(operation: "reopen (\(reason))", path: "memory", errno: 28)
            }
            state.closed = false
        }
    }

    public func close() async throws {
        state.withLock { $0.closed = true }
    }
}
