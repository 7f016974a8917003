import Registry
import Testing

@testable import SharedLog

/// Snapshots in the database: written by the leader only, newest valid at or before a sequence, newest 3 kept.
@Suite(needsPostgres, .timeLimit(.minutes(3))) struct SnapshotTests {
    @Test func leaderWritesKeepsThreeAndLoadsNewestValid() async throws {
        // The leader's snapshots load by sequence; only 3 stay; a damaged newest falls back to the next one.
        try await withPostgres { server in
            try await withStores(server, ["a", "b"]) { stores in
                #expect(
                    await eventually {
                        let first = await stores[0].leadsSweeper()
                        let second = await stores[1].leadsSweeper()
                        return first || second
                    })
                let leaderIndex = await stores[0].leadsSweeper() ? 0 : 1
                let leader = SharedSnapshotStore(store: stores[leaderIndex])
                let follower = SharedSnapshotStore(store: stores[1 - leaderIndex])
                #expect(try await follower.write(plain: [9], sequence: 1, keep: 3) == 0)
                for sequence in [10, 20, 30, 40] as [UInt64] {
                    let bytes = try await leader.write(
                        plain: Array(repeating: UInt8(sequence), count: 1_000), sequence: sequence, keep: 3)
                    #expect(bytes > 0)
                }
                let kept = try await server.psql(
                    "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM tunnel_registry.snapshot", database: "registry")
                #expect(kept == "20,30,40")
                let newest = await follower.loadNewest(atOrBefore: 35, logger: testLogger) { $0 }
                #expect(newest.map(Set.init) == [30] && newest?.count == 1_000)
                try await server.psql(
                    "UPDATE tunnel_registry.snapshot SET blob = overlay(blob placing '\\xff'::bytea from 12) WHERE seq = 40",
                    database: "registry")
                let fallback = await follower.loadNewest(atOrBefore: 100, logger: testLogger) { $0 }
                #expect(fallback.map(Set.init) == [30] && fallback?.count == 1_000)
                let reader = try await SharedLogReader.open(url: server.url(database: "registry"), logger: testLogger)
                #expect(try await reader.snapshots().map(\.sequence) == [40, 30, 20])
                let oldest = try await reader.snapshotBytes(atSequence: 20)
                #expect(Set(oldest) == [20] && oldest.count == 1_000)
                await reader.close()
            }
        }
    }
}
