import Registry
import Testing

@testable import SharedLog

/// The tail delivers every instance's batches in order, from any starting point.
@Suite(needsPostgres, .timeLimit(.minutes(3))) struct TailTests {
    @Test func tailDeliversOthersBatchesInOrder() async throws {
        // B's tail receives A's concurrent appends as contiguous, in-order batches with A's payloads.
        try await withPostgres { server in
            try await withStores(server, ["a", "b"]) { stores in
                let (writer, follower) = (stores[0], stores[1])
                let expected = Locked<[UInt64: [UInt8]]>([:])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<16 {
                        group.addTask {
                            for round in 0..<20 {
                                let bytes = payload("a\(task)", round)
                                let position = try await writer.append([bytes])
                                expected.update { $0[position.sequence] = bytes }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let wanted = expected.value
                var delivered: [StoreRecord] = []
                for try await batch in follower.records(after: 0) {
                    delivered.append(contentsOf: batch)
                    if delivered.count >= wanted.count { break }
                }
                #expect(delivered.map(\.sequence) == Array(1...UInt64(wanted.count)))
                #expect(delivered.allSatisfy { wanted[$0.sequence] == $0.payload })
            }
        }
    }

    @Test func tailFollowsLiveAppendsFromAPosition() async throws {
        // A tail started after sequence 5 gets exactly 6... as they are appended later, by another instance.
        try await withPostgres { server in
            try await withStores(server, ["a", "b"]) { stores in
                for index in 1...5 { _ = try await stores[0].append([payload("early", index)]) }
                let stream = stores[1].records(after: 5)
                let reader = Task {
                    var sequences: [UInt64] = []
                    for try await batch in stream {
                        sequences.append(contentsOf: batch.map(\.sequence))
                        if sequences.count >= 30 { break }
                    }
                    return sequences
                }
                for index in 1...30 { _ = try await stores[0].append([payload("late", index)]) }
                #expect(try await reader.value == Array(6...35))
            }
        }
    }
}
