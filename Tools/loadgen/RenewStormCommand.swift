import ArgumentParser
import Registry

/// Registers a pool of services, then renews them as fast as possible from a fixed number
/// of connections, with a few connections doing Get alongside: durable renews/s and Get p99.
struct RenewStormCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew-storm",
        abstract: "Renew as fast as possible at fixed concurrency for --duration seconds (plus concurrent Gets)."
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Concurrent connections issuing renews (1...1024).")
    var connections = 64

    @Option(help: "Services registered first and renewed round-robin (1...1000000).")
    var services = 1_000

    @Option(help: "Tunnels the services are spread over.")
    var tunnels = 100

    @Option(name: .customLong("get-connections"), help: "Extra connections issuing Get during the storm (0...64).")
    var getConnections = 2

    func validate() throws {
        guard (1...1024).contains(connections) else { throw ValidationError("--connections must be within 1...1024") }
        guard (1...1_000_000).contains(services) else { throw ValidationError("--services must be within 1...1000000") }
        guard (1...services).contains(tunnels) else { throw ValidationError("--tunnels must be within 1...--services") }
        guard (0...64).contains(getConnections) else { throw ValidationError("--get-connections must be within 0...64") }
    }

    func run() async throws {
        var random = SplitMix64(seed: target.seed)
        let node = random.uuid()
        let tunnelNames = (0..<tunnels).map { _ in random.uuid() }
        let pool = (0..<services).map { index in
            LoadService(id: random.uuid(), name: tunnelNames[index % tunnelNames.count], node: node)
        }
        let seconds = target.duration
        let renewers = connections
        let getters = getConnections
        let stats = try await target.transportFactory().withConnections(count: renewers + getters) { connections in
            try await Self.registerAll(pool, connections: Array(connections.prefix(renewers)))
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            return await withTaskGroup(of: RunStats.self) { group in
                for worker in 0..<renewers {
                    let connection = connections[worker]
                    group.addTask {
                        var stats = RunStats()
                        var index = worker
                        while ContinuousClock.now < deadline {
                            let start = ContinuousClock.now
                            let ok = await connection.renew(pool[index % pool.count])
                            stats.record("renew", since: start, ok: ok)
                            index += renewers
                        }
                        return stats
                    }
                }
                for getter in 0..<getters {
                    let connection = connections[renewers + getter]
                    group.addTask {
                        var stats = RunStats()
                        var index = getter
                        while ContinuousClock.now < deadline {
                            let start = ContinuousClock.now
                            let ok = await connection.get(name: tunnelNames[index % tunnelNames.count])
                            stats.record("get", since: start, ok: ok)
                            index += 1
                        }
                        return stats
                    }
                }
                var total = RunStats()
                for await stats in group { total.merge(stats) }
                return total
            }
        }
        print(
            "renew-storm protocol=\(target.protocol.rawValue) connections=\(renewers) get-connections=\(getters) "
                + "services=\(services)"
        )
        print(stats.report(seconds: seconds))
    }

    /// Registers every service before the clock starts, spread over the connections.
    static func registerAll(_ pool: [LoadService], connections: [any SDConnection]) async throws {
        let failures = await withTaskGroup(of: Int.self) { group in
            for (worker, connection) in connections.enumerated() {
                group.addTask {
                    var failed = 0
                    for index in stride(from: worker, to: pool.count, by: connections.count) {
                        if !(await connection.register(pool[index])) { failed += 1 }
                    }
                    return failed
                }
            }
            return await group.reduce(0, +)
        }
        guard failures == 0 else {
            throw ValidationError("\(failures) of \(pool.count) registrations failed; is the server up and the token right?")
        }
    }
}
