import Registry
import Testing

@testable import SharedLog

/// Group commit and the head row: sequences are dense and follow commit order with many writers.
@Suite(needsPostgres, .timeLimit(.minutes(3))) struct AppendTests {
    /// What one caller appended and where the store said it landed.
    struct Acknowledged: Sendable {
        var position: StorePosition
        var payloads: [[UInt8]]
    }

    @Test(arguments: [1, 3]) func threeInstancesAppendDenselyInCommitOrder(statementsInFlight: Int) async throws {
        // 3 stores × 64 concurrent tasks: every acknowledged record is at its sequence, sequences are 1...N
        // with no gap or overlap, each caller's payloads are contiguous, commit times never go back;
        // with one append statement in flight per store and with several (one connection each).
        try await withPostgres { server in
            try await withStores(server, ["a", "b", "c"], configure: { $0.appendStatementsInFlight = statementsInFlight }) {
                stores in
                let acknowledged = Locked<[Acknowledged]>([])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (storeIndex, store) in stores.enumerated() {
                        for task in 0..<64 {
                            group.addTask {
                                for round in 0..<8 {
                                    let writer = "s\(storeIndex)t\(task)"
                                    let payloads = (0...(round % 3)).map { payload(writer, round * 10 + $0) }
                                    let position = try await store.append(payloads)
                                    acknowledged.update {
                                        $0.append(Acknowledged(position: position, payloads: payloads))
                                    }
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let acks = acknowledged.value
                let total = acks.reduce(0) { $0 + $1.payloads.count }
                let records = try await allRecords(stores[0])
                #expect(records.map(\.sequence) == Array(1...UInt64(total)))
                #expect(try await stores[1].durableSequence() == UInt64(total))
                for ack in acks {
                    for (offset, expected) in ack.payloads.enumerated() {
                        let record = records[Int(ack.position.sequence) - 1 + offset]
                        #expect(record.payload == expected)
                        #expect(record.timeMicroseconds == ack.position.timeMicroseconds)
                    }
                }
                #expect(zip(records, records.dropFirst()).allSatisfy { $0.timeMicroseconds <= $1.timeMicroseconds })
                let rows = Int(try await server.psql("SELECT count(*) FROM tunnel_registry.log_batch", database: "registry")) ?? 0
                #expect(rows < acks.count, "group commit shared no statement: \(rows) rows for \(acks.count) appends")
            }
        }
    }
}
