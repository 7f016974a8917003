import Foundation
import Registry
import Testing

/// SIGKILL of the sweeper leader while several clients renew across three instances.
@Suite(.serialized, needsPostgres) struct KillDuringRenewStormTests {
    // Proves a killed leader loses no acknowledged write, the others keep answering Get, the new
    // leader expires the leases nobody renews any more, and no lease generation is expired twice.
    @Test func killedLeaderLosesNothingAndExpiryMovesOn() async throws {
        try await withCluster(instances: 3, leaseTTL: "2s") { cluster in
            let storm = RenewStorm(instances: cluster.instances, loops: 6)
            try await storm.registerAll()
            let leader = try #require(await cluster.leader(), "one instance leads the sweeper")
            storm.start()
            #expect(await eventually(seconds: 120) { storm.acknowledgedCount >= 300 }, "the storm gets going")

            storm.abandon()
            storm.markDead(leader.instance)
            let killedAt = wallMicroseconds()
            await leader.kill()
            let survivors = cluster.instances.filter { $0 !== leader }

            var events: [RegistryEvent] = []
            let allExpired = try await eventually(seconds: 90) {
                events = try await cluster.events()
                let expired = Set(LogChecks.appliedExpires(events).map(\.service.id))
                return storm.abandonedIDs.isSubset(of: expired)
            }
            #expect(allExpired, "the new leader expires every lease nobody renews any more")
            for survivor in survivors {
                for name in storm.names {
                    let kept = storm.keptIDs(name)
                    let answered = await eventually(seconds: 60) { await survivor.ids(name) == kept }
                    #expect(answered, "\(survivor.instance) answers Get for \(name) with the leases still renewed")
                }
            }
            await storm.stop()
            events = try await cluster.events()

            #expect(LogChecks.missing(storm.acknowledged, in: events).isEmpty, "every write answered 200 is logged")
            #expect(LogChecks.expiredTwice(events).isEmpty, "\(LogChecks.expiredTwice(events))")
            #expect(storm.getFailures.isEmpty, "Get on the survivors: \(storm.getFailures.prefix(5))")
            let afterKill = events.filter { $0.timeMicroseconds > killedAt }
            let takeover = afterKill.first { $0.kind == .start }
            // Each abandoned lease's last expire: after the kill, by a survivor. (On a busy machine
            // a loop may stall past the TTL: the old leader then expired the lease and a renew
            // revived it; those earlier expires are history, not what this checks.)
            var finalExpires: [String: RegistryEvent] = [:]
            for expire in LogChecks.appliedExpires(events) where storm.abandonedIDs.contains(expire.service.id) {
                finalExpires[expire.service.id] = expire
            }
            let abandonedExpires = finalExpires.values.filter { $0.timeMicroseconds > killedAt }
                .sorted { $0.sequence < $1.sequence }
            #expect(
                abandonedExpires.allSatisfy { $0.instance != leader.instance },
                "the abandoned leases are expired after the kill by the new leader")
            let expireAfterKill = try #require(abandonedExpires.first, "abandoned leases lapse after the kill")
            let lastAbandoned = abandonedExpires.map(\.timeMicroseconds).max() ?? 0
            #expect(
                milliseconds(from: killedAt, to: lastAbandoned) <= 60_000,
                "the abandoned leases expire within the generous deadline after the kill")
            print(
                "kill → takeover start record \(takeover.map { milliseconds(from: killedAt, to: $0.timeMicroseconds) } ?? -1) ms,"
                    + " → first expire by \(expireAfterKill.instance) "
                    + "\(milliseconds(from: killedAt, to: expireAfterKill.timeMicroseconds)) ms,"
                    + " → last abandoned lease expired \(milliseconds(from: killedAt, to: lastAbandoned)) ms;"
                    + " (\(abandonedExpires.count) of \(storm.abandonedIDs.count) abandoned leases lapsed after the kill);"
                    + " \(storm.acknowledgedCount) writes acknowledged, lease TTL 2 s")
        }
    }
}

/// Several client loops that renew leases round robin over the instances, each request carrying a
/// unique node string, and one loop that asks Get; what was acknowledged is recorded.
final class RenewStorm: Sendable {
    let instances: [RegistryProcess]
    let loops: Int
    let names = ["storm-0", "storm-1", "storm-2"]
    private let acknowledgedWrites = Locked<[Acknowledged]>([])
    private let failedGets = Locked<[String]>([])
    private let abandoned = Locked(false)
    private let dead = Locked<Set<String>>([])
    private let stopping = Locked(false)
    private let tasks = Locked<[Task<Void, Never>]>([])

    init(instances: [RegistryProcess], loops: Int) {
        self.instances = instances
        self.loops = loops
    }

    private func name(_ loop: Int) -> String { names[loop % names.count] }
    private func kept(_ loop: Int) -> [String] { ["k\(loop)-0", "k\(loop)-1"] }
    private func dropped(_ loop: Int) -> [String] { ["d\(loop)-0", "d\(loop)-1"] }

    var abandonedIDs: Set<String> { Set((0..<loops).flatMap(dropped)) }
    func keptIDs(_ name: String) -> Set<String> {
        Set((0..<loops).filter { self.name($0) == name }.flatMap(kept))
    }
    var acknowledged: [Acknowledged] { acknowledgedWrites.value }
    var acknowledgedCount: Int { acknowledgedWrites.value.count }
    var getFailures: [String] { failedGets.value }

    /// Registers every lease the loops renew, each on another instance.
    func registerAll() async throws {
        var index = 0
        for loop in 0..<loops {
            for id in kept(loop) + dropped(loop) {
                let node = "r-\(id)"
                let reply = try await instances[index % instances.count].call(
                    "POST", body: Body.register(name(loop), id, node: node))
                #expect(reply.status == 200, "register \(id): \(reply)")
                acknowledgedWrites.update { $0.append(Acknowledged(kind: .register, name: name(loop), id: id, node: node)) }
                index += 1
            }
        }
    }

    func start() {
        var started: [Task<Void, Never>] = []
        for loop in 0..<loops {
            started.append(Task { await self.renewLoop(loop) })
        }
        started.append(Task { await self.getLoop() })
        tasks.update { $0 = started }
    }

    /// The leases `d*` are renewed no more from now on.
    func abandon() { abandoned.update { $0 = true } }

    /// Requests to `instance` stop (it is about to be killed); its failures are not counted.
    func markDead(_ instance: String) { _ = dead.update { $0.insert(instance) } }

    func stop() async {
        stopping.update { $0 = true }
        for task in tasks.value { await task.value }
    }

    private func live() -> [RegistryProcess] {
        let dead = dead.value
        return instances.filter { !dead.contains($0.instance) }
    }

    private func renewLoop(_ loop: Int) async {
        var round = 0
        while !stopping.value {
            round += 1
            let ids = abandoned.value ? kept(loop) : kept(loop) + dropped(loop)
            let id = ids[round % ids.count]
            let targets = live()
            let target = targets[(round + loop) % targets.count]
            let node = "n\(loop)-\(round)"
            guard let reply = try? await target.call("PUT", body: Body.key(name(loop), id, node: node), seconds: 30)
            else { continue }
            if reply.status == 200 {
                acknowledgedWrites.update { $0.append(Acknowledged(kind: .renew, name: name(loop), id: id, node: node)) }
            }
        }
    }

    private func getLoop() async {
        var round = 0
        while !stopping.value {
            round += 1
            let targets = live()
            let target = targets[round % targets.count]
            let name = names[round % names.count]
            let reply = try? await target.call("GET", query: "?name=\(name)", seconds: 30)
            if reply?.status != 200, !dead.value.contains(target.instance) {
                failedGets.update { $0.append("\(target.instance): \(reply.map { "\($0.status) \($0.text)" } ?? "no answer")") }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
