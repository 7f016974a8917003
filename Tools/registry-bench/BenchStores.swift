import Logging
import Registry
import Synchronization

/// A store whose log is `registers` generated register records, all committed at `time`, made on
/// the fly as they are read (so the benchmark's own memory does not grow with the log); appends
/// are acknowledged at once and dropped: the figures measure the Registry, not a disk.
final class GeneratedStore: RegistryEventStore {
    let workload: Workload
    let time: Int64
    let clock: @Sendable () -> Int64
    private let next: Mutex<UInt64>

    init(workload: Workload, time: Int64, clock: @escaping @Sendable () -> Int64) {
        self.workload = workload
        self.time = time
        self.clock = clock
        self.next = Mutex(UInt64(workload.count) + 1)
    }

    func append(_ payloads: [[UInt8]]) async throws -> StorePosition {
        let first = next.withLock { next in
            defer { next += UInt64(payloads.count) }
            return next
        }
        return StorePosition(sequence: first, timeMicroseconds: clock())
    }

    func read(fromSequence sequence: UInt64, _ body: (StoreRecord) throws -> Void) async throws {
        var current = max(sequence, 1)
        while current <= UInt64(workload.count) {
            try body(
                StoreRecord(
                    sequence: current, timeMicroseconds: time, payload: workload.registerPayload(Int(current - 1))))
            current += 1
        }
    }

    func durableSequence() async throws -> UInt64 { next.withLock { $0 } - 1 }
    func recover() async throws {}
    func close() async throws {}
}

/// No snapshots: every open folds the generated log.
final class NoSnapshots: RegistrySnapshotStore {
    func loadNewest(atOrBefore sequence: UInt64, logger: Logger) async -> Projection? { nil }
    func write(_ projection: Projection, keep: Int) async throws -> Int { 0 }
}

/// A clock the benchmark sets.
final class BenchClock: Sendable {
    private let value: Atomic<Int64>

    init(_ start: Int64) { value = Atomic(start) }

    func now() -> Int64 { value.load(ordering: .relaxed) }
    func set(_ time: Int64) { value.store(time, ordering: .relaxed) }
}

/// A flag one task sets and another polls.
final class BenchFlag: Sendable {
    private let value = Atomic(false)

    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
