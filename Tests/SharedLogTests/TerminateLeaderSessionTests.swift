import Foundation
import Registry
import Testing

/// `pg_terminate_backend` of the sweeper leader's database sessions, through real servers.
@Suite(.serialized, needsPostgres) struct TerminateLeaderSessionTests {
    // Proves a leader whose sessions PostgreSQL ended stops leading at once (its gauge drops and it
    // logs no expire without first taking the lead again with a `start` record), another instance
    // takes over (its gauge flips), expiry goes on by the new leader, and the old one writes again.
    @Test func terminatedLeaderStopsSweepingAndAnotherTakesOver() async throws {
        try await withCluster(instances: 3, leaseTTL: "2s") { cluster in
            let old = try #require(await cluster.leader(), "one instance leads the sweeper")
            let others = cluster.instances.filter { $0 !== old }
            #expect(try await old.call("POST", body: Body.register("t", "before", node: "n")).status == 200)
            #expect(
                try await eventually(seconds: 60) {
                    LogChecks.appliedExpires(try await cluster.events()).contains { $0.service.id == "before" }
                }, "the leader sweeps before its sessions are ended")

            // End every session of the old leader until another instance holds the lock: between
            // two rounds the old one may take the lock again, and loses it again.
            let terminatedAt = wallMicroseconds()
            var newLeader: RegistryProcess?
            var oldGaugeDroppedAt: Int64?
            let tookOver = try await eventually(seconds: 90) {
                try await cluster.database.psql(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        + "WHERE application_name = 'tunnel-registry \(old.instance)'")
                if oldGaugeDroppedAt == nil, await !old.leads() { oldGaugeDroppedAt = wallMicroseconds() }
                for other in others where await other.leads() { newLeader = other }
                return newLeader != nil
            }
            #expect(tookOver, "another instance takes the sweeper over")
            let leader = try #require(newLeader)
            let flippedAt = wallMicroseconds()
            #expect(await eventually(seconds: 60) { await !old.leads() }, "the old leader's gauge says it no longer leads")

            // The old instance reconnects by itself; a lease registered through it is expired by the new leader.
            let registered = await eventually(seconds: 60) {
                (try? await old.call("POST", body: Body.register("t", "after", node: "n"), seconds: 30))?.status == 200
            }
            #expect(registered, "the old leader takes writes again after reconnecting")
            var events: [RegistryEvent] = []
            let expired = try await eventually(seconds: 90) {
                events = try await cluster.events()
                return LogChecks.appliedExpires(events).contains { $0.service.id == "after" }
            }
            #expect(expired, "expiry goes on after the takeover")
            let after = try #require(LogChecks.appliedExpires(events).first { $0.service.id == "after" })
            #expect(after.instance == leader.instance, "the new leader expires the lease")

            #expect(Self.expiresWithoutLeading(events, instance: old.instance, since: terminatedAt).isEmpty)
            #expect(LogChecks.expiredTwice(events).isEmpty, "\(LogChecks.expiredTwice(events))")
            print(
                "terminate → old leader's gauge 0 after \(oldGaugeDroppedAt.map { milliseconds(from: terminatedAt, to: $0) } ?? -1) ms,"
                    + " \(leader.instance)'s gauge 1 after \(milliseconds(from: terminatedAt, to: flippedAt)) ms;"
                    + " lease registered after the takeover expired by \(after.instance)")
        }
    }

    /// Expire records `instance` logged after `since` without a `start` record of its own between
    /// `since` and them: an instance appends `start` whenever it takes the lead, so such an expire
    /// was written by a leader that had lost its session (a fencing failure).
    static func expiresWithoutLeading(_ events: [RegistryEvent], instance: String, since: Int64) -> [UInt64] {
        var leadsAgain = false
        var unfenced: [UInt64] = []
        for event in events where event.instance == instance && event.timeMicroseconds > since {
            if event.kind == .start { leadsAgain = true }
            if event.kind == .expire && !leadsAgain { unfenced.append(event.sequence) }
        }
        return unfenced
    }
}
