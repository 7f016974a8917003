#if canImport(Glibc)
import Glibc
#endif
import EventLog
import FileStore
import Foundation
import Logging
import Registry
import BenchSupport

/// Prints the Registry's figures for issue 9 (leases at scale, memory, restart). Each figure runs
/// in a child process of its own (`registry-bench memory|sweep|storm|fill|open ...`) so resident
/// memory and timings do not mix; `registry-bench` alone runs them all, median of 3. `fold N`
/// prints the fold's rate over a generated log of N records.
@main
struct RegistryBench {
    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let count = arguments.count > 1 ? Int(arguments[arguments.count - 1]) ?? 100_000 : 100_000
        switch arguments.first ?? "all" {
        case "memory": memory(count: count)
        case "sweep": try await sweep(count: count)
        case "read": read(count: count, lapsed: arguments.count > 2)
        case "storm": try await storm(count: count)
        case "fill": try await fill(directory: arguments[1], count: count)
        case "open": try await openOnly(directory: arguments[1])
        case "restart": try restart(count: count)
        case "fold": try fold(count: count)
        case "load": try load(directory: arguments[1])
        case "all": try all()
        default:
            FileHandle.standardError.write(
                Data("usage: registry-bench [all | memory N | sweep N | storm N | restart N | fold N | fill DIR N | open DIR | load DIR]\n".utf8))
            exit(2)
        }
    }

    static let startMicroseconds: Int64 = 1_800_000_000_000_000

    /// Resident bytes per live service after folding `count` registers into a projection.
    static func memory(count: Int) {
        let workload = Workload(count: count)
        let before = residentBytes()
        var projection = Projection()
        for index in 0..<count {
            let record = StoreRecord(
                sequence: UInt64(index + 1), timeMicroseconds: startMicroseconds, payload: workload.registerPayload(index))
            projection.apply(try! EventCodec.decode(record))
        }
        let after = residentBytes()
        precondition(projection.liveEntryCount == count, "folded \(projection.liveEntryCount) of \(count)")
        print("memory \(count) live: \((after - before) / count) bytes resident per live service")
        withExtendedLifetime(projection) {}
    }

    /// The sweeper's read of the projection, without the actor (for callgrind): `count` live,
    /// none lapsed, or all lapsed with `lapsed`.
    static func read(count: Int, lapsed: Bool) {
        let workload = Workload(count: count)
        var projection = Projection()
        for index in 0..<count {
            let record = StoreRecord(
                sequence: UInt64(index + 1), timeMicroseconds: startMicroseconds, payload: workload.registerPayload(index))
            projection.apply(try! EventCodec.decode(record))
        }
        let time = startMicroseconds + (lapsed ? 46_000_000 : 1_000_000)
        let started = monotonicNanoseconds()
        let found = sweeperRead(&projection, at: time, batch: 1_000)
        print("read \(count) live, \(found) lapsed: \(format(milliseconds(monotonicNanoseconds() - started))) ms")
    }

    static func openGenerated(count: Int, clock: BenchClock) async throws -> (Registry, Double) {
        var configuration = RegistryConfiguration(dataDirectory: "/nonexistent-bench")
        configuration.clock = { clock.now() }
        configuration.randomSeed = 1
        let store = GeneratedStore(workload: Workload(count: count), time: startMicroseconds) { clock.now() }
        let started = monotonicNanoseconds()
        let registry = try await Registry.open(
            configuration, store: store, snapshots: NoSnapshots(), logger: Logger(label: "registry-bench"))
        return (registry, milliseconds(monotonicNanoseconds() - started))
    }

    /// Sweep passes with no lease lapsed, `count` live.
    static func sweep(count: Int) async throws {
        let clock = BenchClock(startMicroseconds)
        let (registry, foldMilliseconds) = try await openGenerated(count: count, clock: clock)
        var passes: [Double] = []
        for round in 1...5 {
            clock.set(startMicroseconds + Int64(round) * 500_000)
            let started = monotonicNanoseconds()
            let expired = try await registry.sweep()
            passes.append(milliseconds(monotonicNanoseconds() - started))
            precondition(expired == 0, "\(expired) leases lapsed in a no-lapse pass")
        }
        print(
            "sweep \(count) live: pass with no lapse \(format(median(passes))) ms (median of 5; "
                + "\(passes.map { format($0) }.joined(separator: ", "))); open+fold \(format(foldMilliseconds, 0)) ms")
    }

    /// Get latency (open loop, one every 250 µs, measured from its planned start) while `count`
    /// leases that lapsed together are swept.
    static func storm(count: Int) async throws {
        let clock = BenchClock(startMicroseconds)
        let (registry, _) = try await openGenerated(count: count, clock: clock)
        // Sweep on the way (a sweeper later than a lease logs a stall and extends every lease).
        clock.set(startMicroseconds + 30_000_000)
        _ = try await registry.sweep()
        // A running server has answered Gets before: first-call costs are not the storm's.
        for index in 0..<100 { _ = try await registry.get(name: "tunnel-\(index)") }
        clock.set(startMicroseconds + 46_000_000)
        let sweeping = Task { () -> (Int, UInt64) in
            let started = monotonicNanoseconds()
            let expired = try await registry.sweep()
            return (expired, monotonicNanoseconds() - started)
        }
        let done = BenchFlag()
        let client = Task { () -> [UInt64] in
            var latencies: [UInt64] = []
            var random = SplitMix64(seed: 3)
            let interval: UInt64 = 250_000
            var planned = monotonicNanoseconds()
            while !done.isSet {
                while monotonicNanoseconds() < planned { await Task.yield() }
                _ = try await registry.get(name: "tunnel-\(Int(random.next() % UInt64(max(1, count / 4))))")
                latencies.append(monotonicNanoseconds() - planned)
                planned += interval
            }
            return latencies
        }
        let (expired, sweepNanoseconds) = try await sweeping.value
        done.set()
        let latencies = try await client.value.sorted()
        precondition(expired == count, "expired \(expired) of \(count)")
        let p99 = latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        print(
            "storm \(count) expire at once: Get p99 \(format(milliseconds(p99))) ms, max "
                + "\(format(milliseconds(latencies.last ?? 0))) ms over \(latencies.count) Gets; sweep "
                + "\(format(milliseconds(sweepNanoseconds), 0)) ms")
    }

    static func localConfiguration(_ directory: String) -> RegistryConfiguration {
        RegistryConfiguration(dataDirectory: directory)
    }

    /// Fills a data directory as a running server would hold it: `count` registered, a snapshot,
    /// then `count / 2` renews after it; prints `filled` and waits to be killed (SIGKILL).
    static func fill(directory: String, count: Int) async throws {
        let registry = try await Registry.open(
            localConfiguration(directory), localLog: LocalLogOptions(fsync: .never), logger: Logger(label: "fill"))
        let workload = Workload(count: count)
        let peer = Peer(ip: "10.9.0.1", port: 5000)
        try await inParallel(count) { index in try await registry.register(workload.service(index), peer: peer) }
        _ = try await registry.writeSnapshot()
        try await inParallel(count / 2) { index in
            let service = workload.service(index)
            _ = try await registry.renew(id: service.id, name: service.name, node: service.node, peer: peer)
        }
        FileHandle.standardOutput.write(Data("filled\n".utf8))
        while true { try await Task.sleep(for: .seconds(60)) }
    }

    static func inParallel(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let workers = 64
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var index = worker
                    while index < count {
                        try await body(index)
                        index += workers
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Opens the data directory (snapshot + log tail + start record), prints `ready` and exits
    /// without closing, as a killed server leaves it.
    static func openOnly(directory: String) async throws {
        let started = monotonicNanoseconds()
        let registry = try await Registry.open(
            localConfiguration(directory), localLog: LocalLogOptions(fsync: .always), logger: Logger(label: "open"))
        let live = await registry.liveServiceCount
        FileHandle.standardOutput.write(
            Data("ready \(format(milliseconds(monotonicNanoseconds() - started), 1)) ms \(live) live\n".utf8))
        exit(0)
    }
}
