import ArgumentParser
import Foundation
import Logging
import Registry
import SharedLog
import Synchronization

/// The shared log's figures against a real PostgreSQL: bytes per event of the reference workload
/// as written (one event per commit, the registry's pace) and after merging; durable appends/s
/// with 64 concurrent appenders; tail lag p50/p99 between two store instances at paced rates;
/// and, with real `tunnel-registry` processes, durable HTTP renews/s of a cluster of two against
/// one standalone instance (`renews`) and start-to-ready of an instance joining a large cluster
/// (`join`). Each phase runs in its own new database on the server (dropped afterwards).
@main
struct SharedBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shared-bench", abstract: "Measure the PostgreSQL shared log (prints figures).")

    @Option(help: "URL of a database on the server to measure (new databases are created beside it).")
    var postgres: String
    @Option(help: "Reference-workload events for the bytes-per-event phase.") var sizeEvents = 100_000
    @Option(help: "Seconds of the durable-append phase.") var appendSeconds = 10.0
    @Option(help: "Concurrent appenders of the durable-append phase.") var appenders = 64
    @Option(help: "Seconds of each tail-lag phase.") var lagSeconds = 10.0
    @Option(help: "Paced rates (events/s) of the tail-lag phases.") var lagRates: [Int] = [1_000, 10_000]
    @Option(help: "zstd level of merged rows (default: the configuration's).") var mergeLevel: Int?
    @Option(help: "Most records per merged row (default: the configuration's).") var mergeRecords: Int?
    @Flag(help: "Measure bytes per event only.") var sizeOnly = false
    @Option(
        parsing: .upToNextOption,
        help: "Phases to run: bytes, appends, lag, renews, join (default: bytes appends lag).")
    var phases: [Phase] = [.bytes, .appends, .lag]
    @Option(help: "The tunnel-registry executable (default: the one beside this benchmark).")
    var registry: String?
    @Option(help: "wrk script of the renews phase.") var wrkScript = "Tools/loadgen/renew.lua"
    @Option(help: "Seconds of each wrk run of the renews phase.") var renewSeconds = 10.0
    @Option(help: "HTTP connections of the renews phase (split between the cluster's instances).")
    var renewConnections = 64
    @Option(help: "Runs of the renews and join phases (medians are printed).") var renewRuns = 3
    @Option(help: "Events in the log of the join phase.") var joinEvents = 1_000_000
    @Option(help: "Live services of the join phase.") var joinLive = 100_000
    @Option(help: "Renews appended after the snapshot of the join phase.") var joinTail = 50_000

    /// A part of the benchmark.
    enum Phase: String, ExpressibleByArgument, CaseIterable {
        case bytes, appends, lag, renews, join
    }

    /// The tunnel-registry executable the renews and join phases start.
    var registryBinary: String {
        registry
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tunnel-registry").path
    }

    func run() async throws {
        var logger = Logger(label: "shared-bench") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let admin = try BenchDatabase(url: postgres)
        let phases = sizeOnly ? [.bytes] : phases
        if phases.contains(.bytes) { try await measureBytes(admin, logger: logger) }
        if phases.contains(.appends) { try await measureAppends(admin, logger: logger) }
        if phases.contains(.lag) {
            for rate in lagRates { try await measureLag(admin, rate: rate, logger: logger) }
        }
        if phases.contains(.renews) { try await measureClusterRenews(admin) }
        if phases.contains(.join) { try await measureJoin(admin, logger: logger) }
    }

    func configuration(_ url: String, _ instance: String) -> SharedLogConfiguration {
        var configuration = SharedLogConfiguration(url: url, instance: instance)
        configuration.mergeIntervalSeconds = 0
        configuration.participatesInLeadership = false
        return configuration
    }

    /// Bytes per event as written (one event per commit) and after merging, from pg_total_relation_size.
    private func measureBytes(_ admin: BenchDatabase, logger: Logger) async throws {
        let url = try await admin.create("size", settings: ["synchronous_commit": "off"])
        var config = configuration(url, "size")
        config.mergeAgeSeconds = 0
        if let mergeLevel { config.mergeCompressionLevel = mergeLevel }
        if let mergeRecords { config.mergeRecordsMax = mergeRecords }
        let store = try await SharedEventStore.open(config, logger: logger)
        var workload = ReferenceWorkload()
        let events = workload.events(sizeEvents)
        let plain = events.reduce(0) { $0 + $1.count }
        let start = ContinuousClock.now
        for event in events { _ = try await store.append([event]) }
        let written = try await admin.scalar("SELECT pg_total_relation_size('tunnel_registry.log_batch')", in: "size")
        print(
            "reference workload: \(events.count) events, \(format(Double(plain) / Double(events.count), 1)) plain bytes/event, "
                + "appended one per commit in \(format(seconds(ContinuousClock.now - start), 1)) s")
        print("as written (one row per commit): \(format(Double(written) / Double(events.count), 2)) bytes/event")
        let mergeStart = ContinuousClock.now
        var merged = 0
        while true {
            let pass = try await store.mergeNow()
            if pass == 0 { break }
            merged += pass
        }
        try await admin.execute("VACUUM FULL tunnel_registry.log_batch", in: "size")
        let dense = try await admin.scalar("SELECT pg_total_relation_size('tunnel_registry.log_batch')", in: "size")
        let rows = try await admin.scalar("SELECT count(*) FROM tunnel_registry.log_batch", in: "size")
        print(
            "after merging at zstd level \(config.mergeCompressionLevel) (\(merged) records into \(rows) rows, \(format(seconds(ContinuousClock.now - mergeStart), 1)) s, "
                + "VACUUM FULL): \(format(Double(dense) / Double(events.count), 2)) bytes/event")
        try await store.close()
        try await admin.drop("size")
    }

    /// Durable appends per second with `appenders` concurrent single-event appenders.
    private func measureAppends(_ admin: BenchDatabase, logger: Logger) async throws {
        let url = try await admin.create("append", settings: [:])
        let store = try await SharedEventStore.open(configuration(url, "append"), logger: logger)
        var workload = ReferenceWorkload(seed: 0xFACE)
        let events = workload.events(20_000)
        let done = EventCounter()
        let start = ContinuousClock.now
        let deadline = start + .seconds(appendSeconds)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for appender in 0..<appenders {
                group.addTask {
                    var index = appender
                    while ContinuousClock.now < deadline {
                        _ = try await store.append([events[index % events.count]])
                        done.value.add(1, ordering: .relaxed)
                        index += appenders
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = seconds(ContinuousClock.now - start)
        let rows = try await admin.scalar("SELECT count(*) FROM tunnel_registry.log_batch", in: "append")
        let count = done.value.load(ordering: .relaxed)
        print(
            "durable appends, \(appenders) appenders, synchronous_commit on: \(Int(Double(count) / elapsed)) events/s "
                + "(\(count) events in \(rows) statements, \(format(Double(count) / Double(max(rows, 1)), 1)) per commit)")
        try await store.close()
        try await admin.drop("append")
    }

    /// Tail lag (commit to delivery on another instance) at a paced append rate.
    private func measureLag(_ admin: BenchDatabase, rate: Int, logger: Logger) async throws {
        let url = try await admin.create("lag", settings: [:])
        let writer = try await SharedEventStore.open(configuration(url, "writer"), logger: logger)
        let follower = try await SharedEventStore.open(configuration(url, "follower"), logger: logger)
        let total = Int(Double(rate) * lagSeconds)
        // Warm-up: the follower's tail is connected and listening before the timed appends start.
        let warmUp = try await writer.append([Array("warm-up".utf8)]).sequence
        let (ready, readySignal) = AsyncStream<Void>.makeStream()
        let reading = Task {
            var lags: [Double] = []
            lags.reserveCapacity(total)
            for try await batch in follower.records(after: 0) {
                let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
                for record in batch where record.sequence > warmUp {
                    lags.append(Double(now - record.timeMicroseconds) / 1_000)
                }
                if batch.last?.sequence == warmUp { readySignal.yield() }
                if lags.count >= total { break }
            }
            return lags
        }
        for await _ in ready { break }
        var workload = ReferenceWorkload(seed: 0xBEEF)
        let events = workload.events(min(total, 50_000))
        let tickMilliseconds = 5
        let perTick = max(1, rate * tickMilliseconds / 1_000)
        let start = ContinuousClock.now
        var sent = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            var tick = 0
            while sent < total {
                for _ in 0..<min(perTick, total - sent) {
                    let event = events[sent % events.count]
                    group.addTask { _ = try await writer.append([event]) }
                    sent += 1
                }
                tick += 1
                try await Task.sleep(until: start + .milliseconds(tick * tickMilliseconds), clock: .continuous)
            }
            try await group.waitForAll()
        }
        let achieved = Double(total) / seconds(ContinuousClock.now - start)
        let lags = try await reading.value.sorted()
        print(
            "tail lag at \(rate) events/s (achieved \(Int(achieved))): p50 \(format(percentile(lags, 0.5), 1)) ms, "
                + "p99 \(format(percentile(lags, 0.99), 1)) ms, max \(format(lags.last ?? 0, 1)) ms")
        try await writer.close()
        try await follower.close()
        try await admin.drop("lag")
    }
}

/// Events counted by concurrent appenders.
final class EventCounter: Sendable {
    let value = Atomic<Int>(0)
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func seconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) + Double(attoseconds) / 1e18
}

func format(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}
