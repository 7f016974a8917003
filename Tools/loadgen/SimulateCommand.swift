import ArgumentParser
import Registry

/// Simulates GOST tunnel-server nodes: each holds M connectors that register, renew every
/// --renew-period, sometimes churn (deregister, reconnect with a new id), while the node
/// asks Get for tunnels it does not hold.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "GOST-like traffic: N nodes x M connectors with renews, churn and Gets, for --duration seconds."
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "GOST nodes (1...256).")
    var nodes = 4

    @Option(help: "Connectors per node (1...100000).")
    var connectors = 500

    @Option(help: "Distinct tunnels the connectors belong to.")
    var tunnels = 200

    @Option(name: .customLong("renew-period"), help: "Seconds between renews of one connector (GOST: 15).")
    var renewPeriod: Double = 15

    @Option(help: "Fraction of connectors that reconnect (new id) per renew period (0...1).")
    var churn: Double = 0.02

    @Option(name: .customLong("get-rate"), help: "Gets per second per node (0...10000).")
    var getRate: Double = 20

    @Option(name: .customLong("workers-per-node"), help: "Concurrent connections per node for its connectors (1...64).")
    var workersPerNode = 4

    func validate() throws {
        guard (1...256).contains(nodes) else { throw ValidationError("--nodes must be within 1...256") }
        guard (1...100_000).contains(connectors) else { throw ValidationError("--connectors must be within 1...100000") }
        guard tunnels >= 1 else { throw ValidationError("--tunnels must be at least 1") }
        guard (0.01...3600).contains(renewPeriod) else { throw ValidationError("--renew-period must be within 0.01...3600") }
        guard (0...1).contains(churn) else { throw ValidationError("--churn must be within 0...1") }
        guard (0...10_000).contains(getRate) else { throw ValidationError("--get-rate must be within 0...10000") }
        guard (1...64).contains(workersPerNode) else { throw ValidationError("--workers-per-node must be within 1...64") }
    }

    func run() async throws {
        var random = SplitMix64(seed: target.seed)
        let tunnelNames = (0..<tunnels).map { _ in random.uuid() }
        let plan = (0..<nodes).map { node in
            NodePlan(
                node: random.uuid(), seed: random.next(), workers: min(workersPerNode, connectors),
                services: (0..<connectors).map { index in
                    LoadService(id: "", name: tunnelNames[(node * connectors + index) % tunnelNames.count], node: "")
                }
            )
        }
        let settings = PacingSettings(
            seconds: target.duration, renewPeriodSeconds: renewPeriod, churn: churn, getRate: getRate,
            tunnels: tunnelNames
        )
        let perNode = plan[0].workers + 1
        let stats = try await target.transportFactory().withConnections(count: nodes * perNode) { connections in
            let deadline = ContinuousClock.now + .milliseconds(Int(settings.seconds * 1000))
            return await withTaskGroup(of: RunStats.self) { group in
                for (index, node) in plan.enumerated() {
                    let mine = Array(connections[(index * perNode)..<((index + 1) * perNode)])
                    for worker in 0..<node.workers {
                        group.addTask {
                            await node.runConnectors(worker: worker, connection: mine[worker], settings: settings, until: deadline)
                        }
                    }
                    group.addTask {
                        await node.runGets(connection: mine[node.workers], settings: settings, until: deadline)
                    }
                }
                var total = RunStats()
                for await stats in group { total.merge(stats) }
                return total
            }
        }
        print(
            "simulate protocol=\(target.protocol.rawValue) nodes=\(nodes) connectors/node=\(connectors) "
                + "tunnels=\(tunnels) renew-period=\(renewPeriod)s churn=\(churn) get-rate=\(getRate)/s/node"
        )
        print(stats.report(seconds: settings.seconds))
    }
}

/// What every node's workers share.
struct PacingSettings: Sendable {
    var seconds: Double
    var renewPeriodSeconds: Double
    var churn: Double
    var getRate: Double
    var tunnels: [String]
}

/// One simulated GOST node: its id, connectors and the workers that drive them.
struct NodePlan: Sendable {
    var node: String
    var seed: UInt64
    var workers: Int
    var services: [LoadService]

    /// Drives connectors `worker`, `worker + workers`, …: each acts once per renew period,
    /// slots spread evenly; a worker that falls behind keeps going without sleeping.
    func runConnectors(
        worker: Int, connection: any SDConnection, settings: PacingSettings, until deadline: ContinuousClock.Instant
    ) async -> RunStats {
        var random = SplitMix64(seed: seed &+ UInt64(worker))
        var owned = stride(from: worker, to: services.count, by: workers).map { index -> LoadService in
            var service = services[index]
            service.node = node
            return service
        }
        guard !owned.isEmpty else { return RunStats() }
        var registered = Array(repeating: false, count: owned.count)
        var stats = RunStats()
        let slot = Duration.milliseconds(Int(settings.renewPeriodSeconds * 1000 / Double(owned.count)))
        var next = ContinuousClock.now
        var index = 0
        while next < deadline {
            if next > ContinuousClock.now { try? await Task.sleep(until: next, clock: .continuous) }
            guard ContinuousClock.now < deadline else { break }
            let start = ContinuousClock.now
            if !registered[index] {
                owned[index].id = random.uuid()
                registered[index] = await connection.register(owned[index])
                stats.record("register", since: start, ok: registered[index])
            } else if Double(random.next() % 1_000_000) / 1_000_000 < settings.churn {
                let ok = await connection.deregister(owned[index])
                stats.record("deregister", since: start, ok: ok)
                registered[index] = false
            } else {
                let ok = await connection.renew(owned[index])
                stats.record("renew", since: start, ok: ok)
            }
            index = (index + 1) % owned.count
            next = next + slot
        }
        return stats
    }

    /// Asks Get for random tunnels at the configured rate.
    func runGets(connection: any SDConnection, settings: PacingSettings, until deadline: ContinuousClock.Instant)
        async -> RunStats
    {
        guard settings.getRate > 0 else { return RunStats() }
        var random = SplitMix64(seed: seed ^ 0xABCD)
        var stats = RunStats()
        let interval = Duration.microseconds(Int64(1_000_000 / settings.getRate))
        var next = ContinuousClock.now
        while next < deadline {
            if next > ContinuousClock.now { try? await Task.sleep(until: next, clock: .continuous) }
            guard ContinuousClock.now < deadline else { break }
            let start = ContinuousClock.now
            let name = settings.tunnels[Int(random.next() % UInt64(settings.tunnels.count))]
            let ok = await connection.get(name: name)
            stats.record("get", since: start, ok: ok)
            next = next + interval
        }
        return stats
    }
}
