import Foundation
import Registry
import Testing

@testable import SharedLog

/// A throwaway PostgreSQL and `tunnel-registry` instances on it (`a`, `b`, `c`, ...), for the
/// server-level failure tests. `shutdown()` stops every process and the database.
final class Cluster: Sendable {
    let database: PostgresServer
    let instances: [RegistryProcess]
    var url: String { database.url(database: "registry") }

    private init(database: PostgresServer, instances: [RegistryProcess]) {
        self.database = database
        self.instances = instances
    }

    static func start(instances count: Int, leaseTTL: String, grpc: Bool = false) async throws -> Cluster {
        let database = try await PostgresServer.start()
        var instances: [RegistryProcess] = []
        do {
            for index in 0..<count {
                let name = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(index)))
                instances.append(
                    try await RegistryProcess.start(
                        postgres: database.url(database: "registry"), instance: name, leaseTTL: leaseTTL, grpc: grpc))
            }
        } catch {
            for instance in instances { instance.stop() }
            await database.stop()
            throw error
        }
        return Cluster(database: database, instances: instances)
    }

    /// The instance whose `/metrics` says it leads the sweeper, once exactly one does among
    /// `among` (default: all); nil when none does within `seconds`.
    func leader(among: [RegistryProcess]? = nil, seconds: Double = 60) async -> RegistryProcess? {
        let candidates = among ?? instances
        var found: RegistryProcess?
        _ = await eventually(seconds: seconds) {
            var leading: [RegistryProcess] = []
            for instance in candidates where await instance.leads() { leading.append(instance) }
            found = leading.count == 1 ? leading[0] : nil
            return found != nil
        }
        return found
    }

    /// Every record of the shared log, decoded, read by a store that never leads.
    func events() async throws -> [RegistryEvent] {
        var configuration = SharedLogConfiguration(url: url, instance: "test-reader")
        configuration.participatesInLeadership = false
        configuration.mergeIntervalSeconds = 0
        let store = try await SharedEventStore.open(configuration, logger: testLogger)
        do {
            var events: [RegistryEvent] = []
            try await store.read(fromSequence: 1) { events.append(try EventCodec.decode($0)) }
            try await store.close()
            return events
        } catch {
            try? await store.close()
            throw error
        }
    }

    func shutdown() async {
        for instance in instances { instance.stop() }
        await database.stop()
    }
}

/// A write the registry answered with success, identified by a node string unique to the request
/// (the node is recorded in the event), so the log can be searched for exactly it.
struct Acknowledged: Hashable, Sendable {
    var kind: EventKind
    var name: String
    var id: String
    var node: String
}

/// Checks on a shared log's events that every test of cluster failures makes.
enum LogChecks {
    /// The acknowledged writes that have no event in `events` (should be none).
    static func missing(_ acknowledged: some Sequence<Acknowledged>, in events: [RegistryEvent]) -> [Acknowledged] {
        let logged = Set(
            events.filter(\.kind.isServiceEvent).map {
                Acknowledged(kind: $0.kind, name: $0.service.name, id: $0.service.id, node: $0.service.node)
            })
        return acknowledged.filter { !logged.contains($0) }
    }

    /// Leases expired more than once: expire records naming the same (name, id, last renew's
    /// sequence), that is the same lease generation. Empty when the sweepers behaved.
    static func expiredTwice(_ events: [RegistryEvent]) -> [String] {
        var seen: [String: Int] = [:]
        for event in events where event.kind == .expire {
            let key = "\(event.service.name)/\(event.service.id)@\(event.renewSequence.map(String.init) ?? "-")"
            seen[key, default: 0] += 1
        }
        return seen.filter { $0.value > 1 }.map { "\($0.key) ×\($0.value)" }.sorted()
    }

    /// Expire records the fold applied (not ignored as stale), with their events, in log order.
    static func appliedExpires(_ events: [RegistryEvent]) -> [RegistryEvent] {
        var projection = Projection()
        var applied: [RegistryEvent] = []
        for event in events where projection.apply(event) == .expired {
            applied.append(event)
        }
        return applied
    }
}

/// Milliseconds between two wall-clock instants in microseconds, for reports.
func milliseconds(from start: Int64, to end: Int64) -> Int64 {
    (end - start) / 1_000
}

/// Runs `body` with a started cluster and shuts it down afterwards, whether `body` threw or not.
func withCluster(
    instances: Int, leaseTTL: String, grpc: Bool = false, _ body: (Cluster) async throws -> Void
) async throws {
    let cluster = try await Cluster.start(instances: instances, leaseTTL: leaseTTL, grpc: grpc)
    do {
        try await body(cluster)
        await cluster.shutdown()
    } catch {
        await cluster.shutdown()
        throw error
    }
}

/// JSON bodies of the plugin calls.
enum Body {
    static func register(_ name: String, _ id: String, node: String, address: String = "10.0.0.1:80") -> String {
        #"{"id":"\#(id)","name":"\#(name)","node":"\#(node)","network":"tcp","address":"\#(address)"}"#
    }

    static func key(_ name: String, _ id: String, node: String) -> String {
        #"{"id":"\#(id)","name":"\#(name)","node":"\#(node)"}"#
    }
}
