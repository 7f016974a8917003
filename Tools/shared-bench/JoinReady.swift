import Foundation
import Logging
import Registry
import SharedLog

extension SharedBench {
    /// Start-to-ready of an instance joining a cluster whose log holds `joinEvents` events with
    /// `joinLive` live services: the log is bulk-appended, a first real instance opens it (full
    /// replay, timed too) and, as sweeper leader, writes the snapshot; `joinTail` more renews follow
    /// it; then a second instance is started `renewRuns` times, timed from spawn to `/readyz` 200.
    func measureJoin(_ admin: BenchDatabase, logger: Logger) async throws {
        let url = try await admin.create("join", settings: ["synchronous_commit": "off"])
        let store = try await SharedEventStore.open(configuration(url, "bulk"), logger: logger)
        let services = JoinServices(count: joinLive)
        let filled = ContinuousClock.now
        try await append(services.registers(), to: store)
        try await append(services.renews(joinEvents - joinLive), to: store)
        print(
            "join: appended \(joinEvents) events (\(joinLive) registers, then renews) in "
                + "\(format(seconds(ContinuousClock.now - filled), 1)) s")

        let first = try ServerProcess(binary: registryBinary, arguments: ["--postgres", url, "--instance", "first"])
        defer { first.stop() }
        let coldMilliseconds = try first.waitReady()
        print("join: first instance, no snapshot (full replay of \(joinEvents) events): spawn to /readyz 200 "
            + "\(format(coldMilliseconds, 0)) ms")
        let snapshotWaitStart = ContinuousClock.now
        while try await admin.scalar("SELECT count(*) FROM tunnel_registry.snapshot", in: "join") == 0 {
            guard seconds(ContinuousClock.now - snapshotWaitStart) < 120 else {
                throw SharedBenchError("the first instance wrote no snapshot within 120 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await append(services.renews(joinTail, seed: 7), to: store)
        try await store.close()
        let head = try await admin.scalar("SELECT last_seq FROM tunnel_registry.log_head", in: "join")
        let snapshot = try await admin.scalar("SELECT max(seq) FROM tunnel_registry.snapshot", in: "join")

        var times: [Double] = []
        for run in 1...renewRuns {
            let joining = try ServerProcess(
                binary: registryBinary, arguments: ["--postgres", url, "--instance", "joining-\(run)"])
            defer { joining.stop() }
            times.append(try joining.waitReady())
            joining.stop()
            print("join run \(run): spawn to /readyz 200 \(format(times.last!, 0)) ms")
        }
        first.stop()
        try await admin.drop("join")
        print(
            "start-to-ready joining a cluster of \(head) events (snapshot at \(snapshot), \(head - snapshot) after it), "
                + "\(joinLive) live services: median \(format(medianOf(times), 0)) ms of \(renewRuns) (aim ≤ 1000 ms)")
    }

    /// Appends `payloads` in statements of at most 8,192 records.
    private func append(_ payloads: [[UInt8]], to store: SharedEventStore) async throws {
        var start = 0
        while start < payloads.count {
            let end = min(payloads.count, start + 8_192)
            _ = try await store.append(Array(payloads[start..<end]))
            start = end
        }
    }
}

/// `count` services (UUID-shaped ids, four per tunnel, 200 nodes) and their register and renew payloads.
struct JoinServices {
    private let services: [Service]

    init(count: Int) {
        var random = SplitMix64(seed: 0x701)
        let nodes = (0..<200).map { _ in ReferenceWorkload.uuid(&random) }
        var tunnels: [String] = []
        for _ in 0..<max(1, count / 4) { tunnels.append(ReferenceWorkload.uuid(&random)) }
        var services: [Service] = []
        services.reserveCapacity(count)
        for index in 0..<count {
            let node = index % nodes.count
            services.append(
                Service(
                    id: ReferenceWorkload.uuid(&random), name: tunnels[index / 4 % tunnels.count], node: nodes[node],
                    network: "tcp", address: "10.0.\(node / 250).\(node % 250 + 1):8443"))
        }
        self.services = services
    }

    func registers() -> [[UInt8]] {
        services.map {
            encodeServiceEvent(
                .register, id: $0.id, name: $0.name, node: $0.node, network: $0.network, address: $0.address,
                peer: "10.9.0.1:5000")
        }
    }

    /// `count` renews of the services, round-robin from a seeded offset.
    func renews(_ count: Int, seed: Int = 0) -> [[UInt8]] {
        (0..<max(0, count)).map { index in
            let service = services[(index + seed) % services.count]
            return encodeServiceEvent(
                .renew, id: service.id, name: service.name, node: service.node, network: "", address: "",
                peer: "10.9.0.1:5000")
        }
    }
}

/// A benchmark step that could not go on.
struct SharedBenchError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
