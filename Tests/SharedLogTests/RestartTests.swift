import Synchronization
import Testing

@testable import SharedLog

/// A PostgreSQL crash-restart under load: appends fail fast during the outage, work again after,
/// and nothing acknowledged is lost.
@Suite(needsPostgres, .timeLimit(.minutes(5))) struct RestartTests {
    @Test func appendsFailFastDuringRestartAndNothingAcknowledgedIsLost() async throws {
        // 16 appenders run across `pg_ctl restart -m immediate`: every failure answers within 2 s, the
        // store reconnects by itself, and every acknowledged record is in the log at its sequence.
        try await withPostgres { server in
            try await withStores(server, ["a", "b"]) { stores in
                let acknowledged = Mutex<[UInt64: [UInt8]]>([:])
                let slowestFailure = Mutex<Duration>(.zero)
                let failures = Atomic<Int>(0)
                let successesAfterRestart = Atomic<Int>(0)
                let restarted = Atomic<Bool>(false)
                let stop = Atomic<Bool>(false)
                let writers = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for task in 0..<16 {
                            let store = stores[task % 2]
                            group.addTask {
                                var index = 0
                                while !stop.load(ordering: .relaxed) {
                                    index += 1
                                    let bytes = payload("w\(task)", index)
                                    let start = ContinuousClock.now
                                    do {
                                        let position = try await store.append([bytes])
                                        acknowledged.withLock { $0[position.sequence] = bytes }
                                        if restarted.load(ordering: .relaxed) {
                                            successesAfterRestart.add(1, ordering: .relaxed)
                                        }
                                    } catch {
                                        failures.add(1, ordering: .relaxed)
                                        let took = ContinuousClock.now - start
                                        slowestFailure.withLock { $0 = max($0, took) }
                                        try await Task.sleep(for: .milliseconds(20))
                                    }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                #expect(await eventually { acknowledged.withLock { $0.count } >= 200 })
                try await server.restart(immediate: true)
                restarted.store(true, ordering: .relaxed)
                #expect(await eventually { successesAfterRestart.load(ordering: .relaxed) >= 200 })
                stop.store(true, ordering: .relaxed)
                try await writers.value
                let slowest = slowestFailure.withLock { $0 }
                #expect(slowest <= .seconds(2), "a failed append took \(slowest)")
                let acks = acknowledged.withLock { $0 }
                let records = try await allRecords(stores[0])
                #expect(records.map(\.sequence) == Array(1...UInt64(records.count)))
                let bySequence = Dictionary(uniqueKeysWithValues: records.map { ($0.sequence, $0.payload) })
                let lost = acks.filter { bySequence[$0.key] != $0.value }
                #expect(lost.isEmpty, "acknowledged records missing or different: \(lost.keys.sorted().prefix(10))")
                #expect(try await stores[1].durableSequence() == UInt64(records.count))
            }
        }
    }
}
