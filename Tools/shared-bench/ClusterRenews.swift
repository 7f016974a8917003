import ArgumentParser
import Foundation

/// What one wrk run reported.
struct WrkResult {
    var requestsPerSecond: Double
    var failed: Int
}

/// A running `wrk` with the renew script (each connection registers its own services, then
/// renews them round-robin; `prefix` keeps the ids of two wrk processes apart).
final class WrkRun {
    private let process = Process()
    private let pipe = Pipe()

    init(url: String, script: String, threads: Int, connections: Int, seconds: Double, prefix: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        process.arguments = [
            "-t\(threads)", "-c\(connections)", "-d\(Int(seconds))s", "-s", script, url, "--", prefix,
        ]
        process.standardOutput = pipe
        try process.run()
    }

    func result() throws -> WrkResult {
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        func number(after label: String) -> Double? {
            guard let line = text.split(separator: "\n").first(where: { $0.contains(label) }) else { return nil }
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        guard let rate = number(after: "Requests/sec:") else {
            throw ValidationError("wrk printed no Requests/sec: \(text)")
        }
        return WrkResult(requestsPerSecond: rate, failed: Int(number(after: "Non-2xx or 3xx responses:") ?? 0))
    }
}

extension SharedBench {
    /// Durable renews/s over HTTP with `renewConnections` connections: one standalone instance on
    /// its local log (fsync always), then two instances on one database (connections split
    /// between them), interleaved, `renewRuns` times; prints each run and the medians.
    func measureClusterRenews(_ admin: BenchDatabase) async throws {
        var standalone: [Double] = []
        var cluster: [Double] = []
        for run in 1...renewRuns {
            let local = try ServerProcess(binary: registryBinary, arguments: [])
            defer { local.stop() }
            _ = try local.waitReady()
            let aloneCPU = local.cpuSeconds()
            let alone = try WrkRun(
                url: try local.sdURL(), script: wrkScript, threads: 2, connections: renewConnections,
                seconds: renewSeconds, prefix: "s\(run)"
            ).result()
            let aloneMicroseconds = (local.cpuSeconds() - aloneCPU) * 1e6 / (alone.requestsPerSecond * renewSeconds)
            local.stop()
            standalone.append(alone.requestsPerSecond)

            let url = try await admin.create("renews", settings: [:])
            let instances = try ["a", "b"].map {
                try ServerProcess(binary: registryBinary, arguments: ["--postgres", url, "--instance", $0])
            }
            defer { for instance in instances { instance.stop() } }
            for instance in instances { _ = try instance.waitReady() }
            let clusterCPU = instances.reduce(0) { $0 + $1.cpuSeconds() }
            let runs = try instances.enumerated().map { index, instance in
                try WrkRun(
                    url: try instance.sdURL(), script: wrkScript, threads: 1,
                    connections: renewConnections / instances.count, seconds: renewSeconds, prefix: "c\(run)\(index)")
            }
            let results = try runs.map { try $0.result() }
            let clusterSeconds = instances.reduce(0) { $0 + $1.cpuSeconds() } - clusterCPU
            for instance in instances { instance.stop() }
            try await admin.drop("renews")
            let total = results.reduce(0) { $0 + $1.requestsPerSecond }
            cluster.append(total)
            let failed = alone.failed + results.reduce(0) { $0 + $1.failed }
            let clusterMicroseconds = clusterSeconds * 1e6 / (total * renewSeconds)
            print(
                "renews run \(run): standalone (local log, fsync always) \(Int(alone.requestsPerSecond))/s at "
                    + "\(Int(aloneMicroseconds)) µs server CPU each; cluster of 2 on PostgreSQL \(Int(total))/s ("
                    + results.map { "\(Int($0.requestsPerSecond))" }.joined(separator: " + ")
                    + ") at \(Int(clusterMicroseconds)) µs CPU of both instances each (PostgreSQL's not counted)"
                    + (failed > 0 ? "; \(failed) answers were not 200" : ""))
        }
        let alone = medianOf(standalone)
        let together = medianOf(cluster)
        print(
            "durable HTTP renews/s, \(renewConnections) connections, median of \(renewRuns) × \(Int(renewSeconds)) s: "
                + "cluster of 2 \(Int(together))/s, standalone \(Int(alone))/s, ratio \(format(together / alone, 2)) "
                + "(aim ≥ 1.00)")
    }
}

func medianOf(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}
