import Registry
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
                let acknowledged = Locked<[UInt64: [UInt8]]>([:])
                let slowestFailure = Locked<Duration>(.zero)
                let successesAfterRestart = Locked<Int>(0)
                let restarted = Locked<Bool>(false)
                let stop = Locked<Bool>(false)
                let writers = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for task in 0..<16 {
                            let store = stores[task % 2]
                            group.addTask {
                                var index = 0
                                while !stop.value {
                                    index += 1
                                    let bytes = payload("w\(task)", index)
                                    let start = ContinuousClock.now
                                    do {
                                        let position = try await store.append([bytes])
                                        acknowledged.update { $0[position.sequence] = bytes }
                                        if restarted.value { successesAfterRestart.update { $0 += 1 } }
                                    } catch {
                                        let took = ContinuousClock.now - start
                                        slowestFailure.update { $0 = max($0, took) }
                                        try await Task.sleep(for: .milliseconds(20))
                                    }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                #expect(await eventually { acknowledged.value.count >= 200 })
                try await server.restart(immediate: true)
                restarted.update { $0 = true }
                #expect(await eventually { successesAfterRestart.value >= 200 })
                stop.update { $0 = true }
                try await writers.value
                let slowest = slowestFailure.value
                #expect(slowest <= .seconds(2), "a failed append took \(slowest)")
                let acks = acknowledged.value
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
