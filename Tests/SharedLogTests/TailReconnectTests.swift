import Registry
import Testing

@testable import SharedLog

/// The tail across a PostgreSQL crash-stop and start.
@Suite(.serialized, needsPostgres) struct TailReconnectTests {
    // Proves the tail reconnects by itself after `pg_ctl stop -m immediate` and a start, and
    // delivers what another instance appends afterwards (a stalled tail would leave every write
    // behind a gap waiting for it).
    @Test(arguments: [true, false]) func tailReconnectsAfterCrashStop(busy: Bool) async throws {
        try await withPostgres { server in
            try await withStores(server, ["follower", "writer"]) { stores in
                let (follower, writer) = (stores[0], stores[1])
                let delivered = Locked<UInt64>(0)
                let tail = Task {
                    do {
                        for try await batch in follower.records(after: 0) {
                            if let last = batch.last?.sequence { delivered.update { $0 = last } }
                        }
                    } catch {}
                }
                defer { tail.cancel() }
                _ = try await writer.append([payload("w", 1)])
                #expect(await eventually { delivered.value >= 1 }, "delivered before the outage")
                // Crash-stop while the tail is busy reading appends, or idle.
                if busy { for index in 0..<20 { _ = try? await writer.append([payload("w", 10 + index)]) } }
                try await server.stopServer(immediate: true)
                try await server.startAgain()
                var appended: UInt64 = 0
                let written = await eventually {
                    guard let position = try? await writer.append([payload("w", 99)]) else { return false }
                    appended = position.sequence
                    return true
                }
                #expect(written, "the writer reconnects")
                let caughtUp = await eventually { delivered.value >= appended }
                #expect(caughtUp, "the tail delivers \(appended) after the restart (last delivered \(delivered.value))")
            }
        }
    }
}
