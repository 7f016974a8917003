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

    @Test func tailOmitsOwnAcknowledgedAppendsAndKeepsFollowing() async throws {
        // With tailOmitsOwnAppends, A's tail delivers exactly B's records (A's acknowledged ones are left out, in
        // between) and keeps following past A's rows; a plain tail still delivers everything.
        try await withPostgres { server in
            try await withStores(server, ["a", "b"]) { stores in
                var configuration = testConfiguration(server, instance: "a-omitting")
                configuration.tailOmitsOwnAppends = true
                // No poll tick: only B's notifications make A read, after A's own appends were acknowledged.
                configuration.pollIntervalSeconds = 600
                let own = try await SharedEventStore.open(configuration, logger: testLogger)
                let (delivered, deliver) = AsyncStream<StoreRecord>.makeStream()
                let reading = Task {
                    for try await batch in own.records(after: 0) { for record in batch { deliver.yield(record) } }
                }
                defer { reading.cancel() }
                do { try await expectOmitting(own: own, others: stores[1], delivered: delivered) } catch {
                    try? await own.close()
                    throw error
                }
                try await own.close()
                let everything = try await allRecords(stores[0])
                #expect(everything.map(\.sequence) == Array(1...UInt64(1 + 5 * 5)))
            }
        }
    }

    /// The body of `tailOmitsOwnAcknowledgedAppendsAndKeepsFollowing`.
    private func expectOmitting(
        own: SharedEventStore, others: SharedEventStore, delivered: AsyncStream<StoreRecord>
    ) async throws {
        var iterator = delivered.makeAsyncIterator()
        // Warm-up: once B's first record arrives, A's tail is listening.
        let warmUp = try await others.append([payload("b", 0)]).sequence
        #expect(await iterator.next()?.sequence == warmUp)
        var foreign: [UInt64: [UInt8]] = [:]
        for round in 1...5 {
            for index in 0..<3 { _ = try await own.append([payload("a\(round)", index)]) }
            let bytes = payload("b", round)
            foreign[try await others.append([bytes, bytes]).sequence] = bytes
        }
        // B's records arrive in order, each once. An own row can still arrive when a read,
        // woken late by an earlier notification, meets it before its append's answer was
        // recorded (harmless: the Registry folds it once); on a busy machine that happens to a
        // few, but not to every own row.
        let expected = foreign.keys.sorted().flatMap { [$0, $0 + 1] }
        var received: [StoreRecord] = []
        var ownDelivered = 0
        while received.count < expected.count, let record = await iterator.next() {
            if foreign[record.sequence] ?? foreign[record.sequence - 1] == nil {
                ownDelivered += 1
            } else {
                received.append(record)
            }
        }
        #expect(received.map(\.sequence) == expected)
        #expect(received.allSatisfy { foreign[$0.sequence] ?? foreign[$0.sequence - 1] == $0.payload })
        #expect(ownDelivered < 15, "every own row was read back: the tail did not leave out own appends")
    }
}
