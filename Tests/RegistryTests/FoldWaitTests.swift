import Testing

@testable import Registry

/// Cluster mode: a committed write waits for earlier records of other instances to fold; that
/// wait is bounded, so a database gone away mid-write never hangs the caller.
@Suite struct FoldWaitTests {
    // Proves a write committed behind a record this instance has not received answers unavailable
    // once `foldWaitMicroseconds` passed, and the records still fold in order when they arrive.
    @Test func writeBehindAnUndeliveredRecordAnswersUnavailable() async throws {
        let cluster = try await ClusterFoldTests.Cluster()
        try await cluster.b.register(service("c1"), peer: peerV4)
        let renew = Task { try await cluster.a.renew(id: "c1", name: "tunnel-a", node: "node-1", peer: peerV4) }
        let waiting = await pollUntil { await cluster.a.waitingSince.count == 1 }
        #expect(waiting, "a's renew is committed and waits for b's register to fold")
        #expect(await cluster.a.failLateWaiters() == 0, "not late yet")
        cluster.clock.advance(seconds: 1.6)
        #expect(await cluster.a.failLateWaiters() == 1)
        await #expect(throws: RegistryError.self) { try await renew.value }

        try await cluster.catchUp()
        #expect(try await cluster.a.get(name: "tunnel-a").map(\.id) == ["c1"], "both records folded in order")
        #expect(await cluster.a.currentProjection.lastSequence == 2)
    }

    /// Polls `condition` (yielding between tries) up to 60 s of wall time; checks once more at the end.
    private func pollUntil(_ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return await condition()
    }
}
