import ArgumentParser
import EventLog
import FileStore
import Registry

/// `generate` (hidden): writes the fixture history or a large benchmark log into a data directory.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a scripted history (fixture) or a synthetic benchmark log (bench) into --out.",
        shouldDisplay: false
    )

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case fixture, bench
    }

    static let eventsMax = 50_000_000

    @Option(help: "fixture: the scripted history of Fixtures/replay; bench: a long synthetic log.")
    var scenario: Scenario
    @Option(help: "The data directory to create (must not hold a log yet).") var out: String
    @Option(help: "bench: events to write (at most 50,000,000).") var events: Int = 1_000_000
    @Option(help: "bench: live connectors.") var connectors: Int = 15_000
    @Option(help: "bench: snapshot every N events (0: none).") var snapshotEvery: Int = 100_000
    @Option(help: "Segment size limit in bytes.") var segmentBytes: Int?
    @Option(help: "bench: random seed.") var seed: UInt64 = 1

    func run() async throws {
        guard !DataDirectory.isDirectory(out + "/log") else {
            throw ReplayError.usage("'\(out)/log' already exists: pass a new --out directory")
        }
        guard (1...Self.eventsMax).contains(events) else {
            throw ReplayError.usage("--events \(events) is out of range: use 1 to \(Self.eventsMax)")
        }
        switch scenario {
        case .fixture: try await writeFixture()
        case .bench: try await writeBench()
        }
        try await LogSettling.settle(dataDirectory: out)
    }

    /// Drives the real `Registry` with a scripted clock: the service calls of the fixture
    /// history, the sweeper every second at x.5 s (it logs the expiries), one snapshot.
    private func writeFixture() async throws {
        let clock = ScriptedClock()
        clock.set(FixtureHistory.origin)
        var configuration = RegistryConfiguration(dataDirectory: out)
        let localLog = LocalLogOptions(fsync: .never, segmentBytesMax: segmentBytes ?? 4096)
        configuration.clock = { clock.now() }
        configuration.snapshotEveryRecords = Int.max
        configuration.snapshotIntervalMicroseconds = .max
        configuration.snapshotsKept = 10
        configuration.randomSeed = 1
        let registry = try await Registry.open(
            configuration, localLog: localLog, logger: StderrLogging.logger(label: "generate"))
        let snapshotAfter = FixtureHistory.origin + Int64(FixtureHistory.snapshotAfterSeconds * 1_000_000)
        var sweepAt = FixtureHistory.origin + 500_000
        var snapshotWritten = false
        for call in FixtureHistory.events() where call.kind != .expire && call.kind != .start {
            while sweepAt < call.timeMicroseconds {
                clock.set(sweepAt)
                try await registry.sweep()
                sweepAt += 1_000_000
            }
            if !snapshotWritten, call.timeMicroseconds > snapshotAfter {
                try await registry.writeSnapshot()
                snapshotWritten = true
            }
            clock.set(call.timeMicroseconds)
            try await Self.send(call, to: registry)
        }
        try await registry.close()
    }

    private static func send(_ call: RegistryEvent, to registry: Registry) async throws {
        let parts = call.peer.split(separator: ":")
        let peer = Peer(ip: parts.first.map(String.init), port: parts.last.flatMap { Int($0) })
        let service = call.service
        switch call.kind {
        case .register:
            try await registry.register(service, peer: peer)
        case .renew:
            _ = try await registry.renew(id: service.id, name: service.name, node: service.node, peer: peer)
        case .deregister:
            try await registry.deregister(id: service.id, name: service.name, node: service.node, peer: peer)
        case .expire, .start, .stall:
            preconditionFailure("the sweeper and open() write \(call.kind) records, not the script")
        }
    }

    private func writeBench() async throws {
        var filler = LogFiller(dataDirectory: out, segmentBytesMax: segmentBytes ?? (64 << 20))
        try await filler.open()
        var history = BenchHistory(connectors: connectors, seed: seed, originMicroseconds: FixtureHistory.origin)
        var written = 0
        var nextSnapshot = snapshotEvery > 0 ? snapshotEvery : Int.max
        var batch = history.opening()
        while written < events {
            if batch.count > events - written { batch.removeLast(batch.count - (events - written)) }
            if !batch.isEmpty {
                try await filler.commit(batch)
                written += batch.count
            }
            if written >= nextSnapshot {
                try SnapshotWriting.write(filler.projection, dataDirectory: out)
                nextSnapshot += snapshotEvery
            }
            batch = history.nextSecond()
        }
        try await filler.close()
        Diagnostics.warn("generate: \(written) events in '\(out)'")
    }
}
