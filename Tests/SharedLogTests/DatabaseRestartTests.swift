import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import PluginServer
import Registry
import Testing

/// PostgreSQL crash-stopped (`pg_ctl stop -m immediate`) and started again while two instances
/// take writes over HTTP and gRPC.
@Suite(.serialized, needsPostgres) struct DatabaseRestartTests {
    static let leaseTTLSeconds: Int64 = 5

    // Proves that during the outage writes answer 503 / UNAVAILABLE quickly and never hang, Get
    // keeps answering, each instance reconnects by itself, nothing acknowledged is lost, and after
    // an outage longer than the lease TTL the leases are refreshed by a `start` record, not expired.
    @Test func restartUnderLoadFailsFastReconnectsAndKeepsLeases() async throws {
        try await withCluster(instances: 2, leaseTTL: "\(Self.leaseTTLSeconds)s", grpc: true) { cluster in
            let load = try OutageLoad(instances: cluster.instances)
            try await load.registerAll()
            _ = try #require(await cluster.leader(), "one instance leads the sweeper")
            load.start()
            defer { load.shutdownClients() }
            #expect(await eventually(seconds: 120) { load.acknowledgedCount >= 100 }, "the writers get going")

            load.beginOutage()
            let downAt = wallMicroseconds()
            try await cluster.database.stopServer(immediate: true)
            let refused = await eventually(seconds: 120) {
                let longEnough = wallMicroseconds() - downAt > (Self.leaseTTLSeconds + 1) * 1_000_000
                return longEnough && load.everyWriterRefused(since: downAt, times: 2)
            }
            #expect(refused, "every instance refused writes over HTTP and gRPC during the outage")
            let upAt = wallMicroseconds()
            try await cluster.database.startAgain()
            let acceptingAt = wallMicroseconds()

            let reconnected = await eventually(seconds: 60) { load.everyWriterAcknowledged(since: upAt) }
            #expect(reconnected, "each instance takes writes again by itself")
            if !reconnected {
                for instance in cluster.instances {
                    let lines = instance.stderr.split(separator: "\n").filter { !$0.contains("cannot be written") }
                    print("last log lines of \(instance.instance):\n" + lines.suffix(25).joined(separator: "\n"))
                }
            }
            let reconnectedAt = wallMicroseconds()
            for instance in cluster.instances {
                let back = await eventually(seconds: 60) { await instance.ids("outage") == load.outageIDs }
                #expect(back, "\(instance.instance) answers the leases not renewed since the outage began")
            }
            await load.stop()
            let events = try await cluster.events()

            #expect(LogChecks.missing(load.acknowledged, in: events).isEmpty, "every acknowledged write is logged")
            let outage = load.outcomes.filter { $0.startedAt >= downAt && $0.startedAt < upAt }
            let unexpected = outage.filter { !$0.refusedOrAcknowledged }
            #expect(unexpected.isEmpty, "during the outage writes answer 503 / UNAVAILABLE: \(unexpected.prefix(5))")
            let slowest = outage.map(\.milliseconds).max() ?? 0
            #expect(slowest <= 5_000, "writes answer within the write timeout (2 s) plus slack for a busy machine")
            #expect(load.getFailures.isEmpty, "Get keeps answering: \(load.getFailures.prefix(5))")
            let start = events.first { $0.kind == .start && $0.timeMicroseconds >= upAt }
            #expect(start != nil, "a start record refreshes the leases after the outage")
            let lapsedEarly = LogChecks.appliedExpires(events).filter {
                load.outageIDs.contains($0.service.id) && ($0.lapsedAtMicroseconds ?? 0) < upAt
            }
            #expect(lapsedEarly.isEmpty, "no lease lapsed during the outage is expired: \(lapsedEarly.map(\.service.id))")
            print(
                "outage \(milliseconds(from: downAt, to: upAt)) ms (lease TTL \(Self.leaseTTLSeconds) s):"
                    + " \(outage.count) writes, slowest answer \(slowest) ms,"
                    + " over 2 s: \(outage.filter { $0.milliseconds > 2_000 }.count);"
                    + " PostgreSQL accepting again \(milliseconds(from: upAt, to: acceptingAt)) ms after pg_ctl start,"
                    + " every instance writing again \(milliseconds(from: acceptingAt, to: reconnectedAt)) ms later,"
                    + " start record \(start.map { milliseconds(from: acceptingAt, to: $0.timeMicroseconds) } ?? -1) ms later")
        }
    }
}

/// How one write ended, for the outage checks.
struct WriteOutcome: Sendable, CustomStringConvertible {
    var instance: String
    var transport: String
    /// `ok`, `refused` (503 / UNAVAILABLE), or what else came back.
    var result: String
    var startedAt: Int64
    var milliseconds: Int64

    var refusedOrAcknowledged: Bool { result == "ok" || result == "refused" }
    var description: String { "\(instance) \(transport) \(result) after \(milliseconds) ms" }
}

/// One HTTP and one gRPC writer per instance renewing leases with unique node strings, and a Get
/// loop per instance; leases `outage` are renewed only until the outage begins.
final class OutageLoad: Sendable {
    let instances: [RegistryProcess]
    let outageIDs: Set<String> = Set((0..<6).map { "o\($0)" })
    private let writeIDs = (0..<4).map { "w\($0)" }
    private let clients: [GRPCClient<HTTP2ClientTransport.Posix>]
    private let acknowledgedWrites = Locked<[Acknowledged]>([])
    private let results = Locked<[WriteOutcome]>([])
    private let failedGets = Locked<[String]>([])
    private let outage = Locked(false)
    private let stopping = Locked(false)
    private let tasks = Locked<[Task<Void, Never>]>([])

    init(instances: [RegistryProcess]) throws {
        self.instances = instances
        clients = try instances.map {
            GRPCClient(
                transport: try HTTP2ClientTransport.Posix(
                    target: .ipv4(address: "127.0.0.1", port: $0.grpcPort), transportSecurity: .plaintext))
        }
    }

    var acknowledged: [Acknowledged] { acknowledgedWrites.value }
    var acknowledgedCount: Int { acknowledgedWrites.value.count }
    var outcomes: [WriteOutcome] { results.value }
    var getFailures: [String] { failedGets.value }

    func registerAll() async throws {
        for (index, id) in (outageIDs.sorted() + writeIDs).enumerated() {
            let name = id.hasPrefix("o") ? "outage" : "writes"
            let node = "r-\(id)"
            let reply = try await instances[index % instances.count].call("POST", body: Body.register(name, id, node: node))
            #expect(reply.status == 200, "register \(id): \(reply)")
            acknowledgedWrites.update { $0.append(Acknowledged(kind: .register, name: name, id: id, node: node)) }
        }
    }

    func start() {
        var started: [Task<Void, Never>] = []
        for (index, client) in clients.enumerated() {
            started.append(Task { try? await client.runConnections() })
            started.append(Task { await self.writeLoop(index, grpc: false) })
            started.append(Task { await self.writeLoop(index, grpc: true) })
            started.append(Task { await self.getLoop(index) })
        }
        tasks.update { $0 = started }
    }

    func beginOutage() { outage.update { $0 = true } }

    func stop() async {
        stopping.update { $0 = true }
        shutdownClients()
        for task in tasks.value { await task.value }
    }

    func shutdownClients() {
        for client in clients { client.beginGracefulShutdown() }
    }

    /// Whether every instance refused at least `times` writes over each transport since `since`.
    func everyWriterRefused(since: Int64, times: Int) -> Bool {
        let refused = results.value.filter { $0.startedAt >= since && $0.result == "refused" }
        return instances.allSatisfy { instance in
            ["http", "grpc"].allSatisfy { transport in
                refused.filter { $0.instance == instance.instance && $0.transport == transport }.count >= times
            }
        }
    }

    /// Whether every instance acknowledged a write over each transport started since `since`.
    func everyWriterAcknowledged(since: Int64) -> Bool {
        let acknowledged = results.value.filter { $0.startedAt >= since && $0.result == "ok" }
        return instances.allSatisfy { instance in
            ["http", "grpc"].allSatisfy { transport in
                acknowledged.contains { $0.instance == instance.instance && $0.transport == transport }
            }
        }
    }

    private func writeLoop(_ index: Int, grpc: Bool) async {
        let instance = instances[index]
        let transport = grpc ? "grpc" : "http"
        var round = 0
        while !stopping.value {
            round += 1
            let ids = outage.value ? writeIDs : writeIDs + outageIDs.sorted()
            let id = ids[round % ids.count]
            let name = id.hasPrefix("o") ? "outage" : "writes"
            let node = "\(transport)-\(instance.instance)-\(round)"
            let startedAt = wallMicroseconds()
            let result = grpc ? await renewGRPC(index, name: name, id: id, node: node)
                : await renewHTTP(instance, name: name, id: id, node: node)
            if stopping.value && result != "ok" { break }
            if result == "ok" {
                acknowledgedWrites.update { $0.append(Acknowledged(kind: .renew, name: name, id: id, node: node)) }
            }
            let outcome = WriteOutcome(
                instance: instance.instance, transport: transport, result: result, startedAt: startedAt,
                milliseconds: milliseconds(from: startedAt, to: wallMicroseconds()))
            results.update { $0.append(outcome) }
            if result != "ok" { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    private func renewHTTP(_ instance: RegistryProcess, name: String, id: String, node: String) async -> String {
        do {
            let reply = try await instance.call("PUT", body: Body.key(name, id, node: node), seconds: 30)
            switch reply.status {
            case 200: return "ok"
            case 503: return "refused"
            default: return "HTTP \(reply.status) \(reply.text)"
            }
        } catch {
            return "no answer: \(error)"
        }
    }

    private func renewGRPC(_ index: Int, name: String, id: String, node: String) async -> String {
        var options = CallOptions.defaults
        options.timeout = .seconds(30)
        var service = Proto_Service()
        service.id = id
        service.name = name
        service.node = node
        var request = Proto_RenewRequest()
        request.service = service
        do {
            let reply = try await Proto_SD.Client(wrapping: clients[index]).renew(request, options: options)
            return reply.ok ? "ok" : "ok: false"
        } catch let error as RPCError {
            return error.code == .unavailable ? "refused" : "gRPC \(error.code): \(error.message)"
        } catch {
            return "no answer: \(error)"
        }
    }

    private func getLoop(_ index: Int) async {
        let instance = instances[index]
        while !stopping.value {
            let startedAt = wallMicroseconds()
            let reply = try? await instance.call("GET", query: "?name=writes", seconds: 30)
            let elapsed = milliseconds(from: startedAt, to: wallMicroseconds())
            if reply?.status != 200 || elapsed > 5_000 {
                failedGets.update {
                    $0.append("\(instance.instance): \(reply.map { "\($0.status)" } ?? "no answer") after \(elapsed) ms")
                }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
