import Registry
import Testing

@testable import SharedLog

/// One sweeper leader by session advisory lock, fenced: a leader whose session died cannot append.
@Suite(needsPostgres, .timeLimit(.minutes(3))) struct LeadershipTests {
    /// Terminates the session holding the sweeper lock; returns how many sessions were ended.
    private func terminateLeaderSession(_ server: PostgresServer) async throws -> Int {
        let key = UInt32(truncatingIfNeeded: Schema.leaderLockKey)
        let ended = try await server.psql(
            """
            SELECT count(pg_terminate_backend(pid)) FROM pg_locks
            WHERE locktype = 'advisory' AND objid = '\(key)'::oid AND granted
            """, database: "registry")
        return Int(ended) ?? 0
    }

    @Test func terminatedLeaderStopsAtOnceAndCannotAppend() async throws {
        // After pg_terminate_backend of the leader's session, appendAsLeader fails and leadsSweeper is false at once.
        try await withPostgres { server in
            try await withStores(server, ["a"], configure: { $0.leaderCheckSeconds = 3_600 }) { stores in
                let leader = stores[0]
                #expect(await eventually { await leader.leadsSweeper() })
                let before = try await leader.appendAsLeader([payload("expire", 1)])
                #expect(before.sequence == 1)
                #expect(try await terminateLeaderSession(server) == 1)
                await #expect(throws: NotSweeperLeaderError.self) { _ = try await leader.appendAsLeader([payload("expire", 2)]) }
                #expect(await leader.leadsSweeper() == false)
                await #expect(throws: NotSweeperLeaderError.self) { _ = try await leader.appendAsLeader([payload("expire", 3)]) }
                // Ordinary appends go on over the writer connection, and no fenced record landed.
                let after = try await leader.append([payload("renew", 1)])
                #expect(after.sequence == 2)
            }
        }
    }

    @Test func leadershipMovesWhenTheHoldersSessionDies() async throws {
        // Only one of two instances leads; when its session is terminated the other takes over.
        try await withPostgres { server in
            var first = testConfiguration(server, instance: "first")
            first.leaderCheckSeconds = 3_600
            let holder = try await SharedEventStore.open(first, logger: testLogger)
            do {
                #expect(await eventually { await holder.leadsSweeper() })
                try await withStores(server, ["second"]) { stores in
                    let follower = stores[0]
                    #expect(await follower.leadsSweeper() == false)
                    await #expect(throws: NotSweeperLeaderError.self) { _ = try await follower.appendAsLeader([[1]]) }
                    #expect(try await terminateLeaderSession(server) == 1)
                    #expect(await eventually { await follower.leadsSweeper() })
                    #expect(await holder.leadsSweeper() == false)
                    let position = try await follower.appendAsLeader([payload("expire", 1)])
                    #expect(position.sequence == 1)
                }
                try await holder.close()
            } catch {
                try? await holder.close()
                throw error
            }
        }
    }
}
