#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import BenchSupport

/// Measures the registry's HTTP and gRPC renew paths against reference servers started in the
/// same run (README.md, "Benchmarks"): a release `tunnel-registry` on a fresh data directory, a
/// bare Hummingbird route decoding the same renew JSON, and a bare grpc-swift-2 `proto.SD`
/// service answering `ok` (both `front-bench-refs`). Each is driven by wrk or h2load for
/// `--duration` seconds, interleaved, `--rounds` times; prints requests/s, server CPU per
/// request from /proc, the ratios of issue 9, and Get p99 during the HTTP renew storm.
@main
struct FrontBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "front-bench",
        abstract: "Renews/s and server CPU per renew of the registry's fronts next to bare reference servers."
    )

    @Option(help: "Seconds per timed run.")
    var duration = 8

    @Option(help: "Interleaved rounds; the medians are printed.")
    var rounds = 3

    @Option(help: "Connections per run (wrk -c, h2load -c).")
    var connections = 64

    @Option(help: "gRPC connections per run (h2load -c); default: --connections.")
    var grpcConnections: Int?

    @Option(help: "Concurrent gRPC calls per connection (h2load -m). GOST multiplexes every call of one node on one connection.")
    var grpcStreams = 1

    @Option(help: "Services registered before the runs (one of them is renewed).")
    var services = 1_000

    @Option(help: "Passed to tunnel-registry --fsync (always is the durable default).")
    var fsync = "always"

    @Option(help: "Which fronts to run: all, http or grpc.")
    var only = "all"

    @Option(help: "Directory holding tunnel-registry and front-bench-refs (default: this executable's).")
    var binaries: String?

    @Option(help: "Another tunnel-registry binary (an earlier build, say) renewed in the same rounds, for before/after.")
    var compare: String?

    func validate() throws {
        guard duration >= 1, rounds >= 1, (1...1024).contains(connections), (1...100_000).contains(services) else {
            throw ValidationError("--duration and --rounds must be ≥ 1, --connections 1...1024, --services 1...100000")
        }
        guard (1...1024).contains(grpcConnections ?? connections), (1...256).contains(grpcStreams) else {
            throw ValidationError("--grpc-connections must be 1...1024 and --grpc-streams 1...256")
        }
        guard ["all", "http", "grpc"].contains(only) else { throw ValidationError("--only must be all, http or grpc") }
    }

    func run() throws {
        let directory = binaries ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let scratch = NSTemporaryDirectory() + "front-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let loadBefore = loadAverage()

        let registry = try startRegistry(label: "tunnel-registry", executable: directory + "/tunnel-registry", scratch: scratch)
        defer { registry.stop() }
        let registryGRPC = try Self.announced(registry, after: "grpc listening on ")
        let other = try compare.map { try startRegistry(label: "compared-registry", executable: $0, scratch: scratch) }
        defer { other?.stop() }
        let otherGRPC = try other.map { try Self.announced($0, after: "grpc listening on ") }
        let bareHTTP = try ServerProcess(
            label: "bare-http", executable: directory + "/front-bench-refs", arguments: ["http"],
            markers: ["listening on"], addressAfter: "listening on ", directory: scratch
        )
        defer { bareHTTP.stop() }
        let bareGRPC = try ServerProcess(
            label: "bare-grpc", executable: directory + "/front-bench-refs", arguments: ["grpc"],
            markers: ["listening on"], addressAfter: "listening on ", directory: scratch
        )
        defer { bareGRPC.stop() }

        let workload = Workload(count: services)
        try workload.registerAll(at: registry.address)
        if let other { try workload.registerAll(at: other.address) }
        let drivers = Drivers(wrk: "/usr/bin/wrk", h2load: "/usr/bin/h2load", connections: connections,
            grpcConnections: grpcConnections ?? connections, grpcStreams: grpcStreams, directory: scratch)
        let healthz = try drivers.wrkScript(name: "healthz", method: "GET", body: nil)
        let renew = try drivers.wrkScript(name: "renew", method: "PUT", body: workload.renewJSON)
        let grpcBody = try drivers.grpcBody(name: "renew", message: workload.renewProtobuf)
        let probe = GetProbe(address: registry.address, path: "/sd?name=\(workload.tunnel)")
        let otherProbe = other.map { GetProbe(address: $0.address, path: "/sd?name=\(workload.tunnel)") }
        let renewsBefore = try workload.renewCount(at: registry.address)

        let runHTTP = only != "grpc"
        let runGRPC = only != "http"
        print(
            "front-bench: \(rounds) rounds × \(duration) s, \(connections) connections, "
                + "gRPC \(grpcConnections ?? connections) connections × \(grpcStreams) streams, "
                + "\(services) services registered, --fsync \(fsync)")
        print("load average before: \(loadBefore)")
        // Warm-up: a short run against each server, not counted.
        if runHTTP {
            _ = try drivers.http(registry, url: "http://\(registry.address)/healthz", script: healthz, seconds: 2)
            _ = try drivers.http(bareHTTP, url: "http://\(bareHTTP.address)/sd", script: renew, seconds: 2)
            _ = try drivers.http(registry, url: "http://\(registry.address)/sd", script: renew, seconds: 2)
            if let other { _ = try drivers.http(other, url: "http://\(other.address)/sd", script: renew, seconds: 2) }
        }
        if runGRPC {
            _ = try drivers.grpc(bareGRPC, url: "http://\(bareGRPC.address)/proto.SD/Renew", body: grpcBody, seconds: 2)
            _ = try drivers.grpc(registry, url: "http://\(registryGRPC)/proto.SD/Renew", body: grpcBody, seconds: 2)
            if let other, let otherGRPC {
                _ = try drivers.grpc(other, url: "http://\(otherGRPC)/proto.SD/Renew", body: grpcBody, seconds: 2)
            }
        }

        var table = Table()
        for round in 1...rounds {
            var line = "round \(round):"
            if runHTTP {
                let health = try drivers.http(
                    registry, url: "http://\(registry.address)/healthz", script: healthz, seconds: duration, probe: probe
                )
                let bare = try drivers.http(bareHTTP, url: "http://\(bareHTTP.address)/sd", script: renew, seconds: duration)
                let compareHTTP = {
                    try other.map { other in
                        try drivers.http(
                            other, url: "http://\(other.address)/sd", script: renew, seconds: duration, probe: otherProbe)
                    }
                }
                let comparedFirst = registryRunsSecond(round: round) ? try compareHTTP() : nil
                let logBefore = try LogCommits.read(at: registry.address)
                let renews = try drivers.http(
                    registry, url: "http://\(registry.address)/sd", script: renew, seconds: duration, probe: probe
                )
                let log = try LogCommits.read(at: registry.address).since(logBefore)
                table.addLog("http", log, rate: renews.perSecond, inFlight: connections)
                table.add("healthz", health)
                table.add("bare-http", bare)
                table.add("http-renew", renews)
                table.addRatio("http-cpu", renews.cpuPerRequest / bare.cpuPerRequest)
                table.addRatio("http-rate", renews.perSecond / health.perSecond)
                table.addRatio("get-p99", percentile(renews.getMilliseconds, 0.99))
                table.addRatio("get-p99-healthz", percentile(health.getMilliseconds, 0.99))
                line += " healthz \(Table.describe(health)) | bare http \(Table.describe(bare)) | http renew \(Table.describe(renews))"
                line += " Get p99 \(format(percentile(renews.getMilliseconds, 0.99), 2)) ms"
                line += " (\(format(percentile(health.getMilliseconds, 0.99), 2)) ms during the /healthz storm)"
                line += ", \(log.describe(inFlight: connections))"
                if let compared = try comparedFirst ?? compareHTTP() {
                    table.add("compare-http", compared)
                    table.addRatio("compare-http-cpu", compared.cpuPerRequest / bare.cpuPerRequest)
                    line += " | compared http renew \(Table.describe(compared))"
                }
            }
            if runGRPC {
                let bare = try drivers.grpc(bareGRPC, url: "http://\(bareGRPC.address)/proto.SD/Renew", body: grpcBody, seconds: duration)
                let compareGRPC = { () throws -> RunResult? in
                    guard let other, let otherGRPC else { return nil }
                    return try drivers.grpc(other, url: "http://\(otherGRPC)/proto.SD/Renew", body: grpcBody, seconds: duration)
                }
                let comparedFirst = registryRunsSecond(round: round) ? try compareGRPC() : nil
                let logBefore = try LogCommits.read(at: registry.address)
                let renews = try drivers.grpc(registry, url: "http://\(registryGRPC)/proto.SD/Renew", body: grpcBody, seconds: duration)
                let log = try LogCommits.read(at: registry.address).since(logBefore)
                let inFlight = (grpcConnections ?? connections) * grpcStreams
                table.addLog("grpc", log, rate: renews.perSecond, inFlight: inFlight)
                table.add("bare-grpc", bare)
                table.add("grpc-renew", renews)
                table.addRatio("grpc-cpu", renews.cpuPerRequest / bare.cpuPerRequest)
                if let http = table.runs["http-renew"]?.last {
                    table.addRatio("grpc-rate", renews.perSecond / http.perSecond)
                }
                line += " | bare grpc \(Table.describe(bare)) | grpc renew \(Table.describe(renews)), \(log.describe(inFlight: inFlight))"
                if let compared = try comparedFirst ?? compareGRPC() {
                    table.add("compare-grpc", compared)
                    table.addRatio("compare-grpc-cpu", compared.cpuPerRequest / bare.cpuPerRequest)
                    line += " | compared grpc renew \(Table.describe(compared))"
                }
            }
            print(line)
        }
        try checkRenewsLogged(workload: workload, registry: registry, before: renewsBefore, table: table)
        table.printSummary(rounds: rounds, duration: duration, connections: connections)
        print("load average after: \(loadAverage()); registry resident \(registry.residentBytes() >> 20) MiB")
    }

    /// Whether the `--compare` build renews before this build in `round`: the two swap places every
    /// round, since whichever runs second in a round did better (its server and caches are warm).
    func registryRunsSecond(round: Int) -> Bool { round % 2 == 0 }

    /// Starts a registry on a data directory of its own under `scratch`.
    func startRegistry(label: String, executable: String, scratch: String) throws -> ServerProcess {
        let data = scratch + "/data-" + label
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        return try ServerProcess(
            label: label, executable: executable,
            arguments: [
                "--data-dir", data, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
                "--fsync", fsync, "--lease-ttl", "1h", "--log-level", "warning",
            ],
            markers: ["ready after replay", "http listening on", "grpc listening on"],
            addressAfter: "http listening on ", directory: scratch
        )
    }

    /// Every renew the clients counted as answered must be in the registry's log: h2load cannot
    /// see a gRPC error status, so the registry's own counter decides.
    func checkRenewsLogged(workload: Workload, registry: ServerProcess, before: Double, table: Table) throws {
        let logged = try workload.renewCount(at: registry.address) - before
        let sent = (table.runs["http-renew"] ?? []).map(\.requests).reduce(0, +)
            + (table.runs["grpc-renew"] ?? []).map(\.requests).reduce(0, +)
        guard logged >= sent else {
            throw BenchError(
                "the registry logged \(Int(logged)) renews but the clients counted \(Int(sent)) answered; "
                    + "renews were refused (see tunnel_registry_renew_not_found_total on /metrics)")
        }
    }

    static func announced(_ server: ServerProcess, after marker: String) throws -> String {
        let text = (try? String(contentsOfFile: server.outputPath, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.contains(marker) }), let range = line.range(of: marker) else {
            throw BenchError("\(server.label) did not announce \(marker)")
        }
        return String(line[range.upperBound...])
    }
}
