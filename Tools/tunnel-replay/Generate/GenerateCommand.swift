import ArgumentParser
import Registry

/// `generate` (hidden): writes the fixture history or a large benchmark log into a data directory.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a scripted history (fixture) or a synthetic benchmark log (bench) into --out.",
        shouldDisplay: false)

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
    }

    private func writeFixture() async throws {
        var filler = LogFiller(dataDirectory: out, segmentBytesMax: segmentBytes ?? 2048)
        try await filler.open()
        let snapshotAfter = FixtureHistory.origin + Int64(FixtureHistory.snapshotAfterSeconds * 1_000_000)
        var snapshotWritten = false
        for event in FixtureHistory.events() {
            if !snapshotWritten, event.timeMicroseconds > snapshotAfter {
                try SnapshotWriting.write(filler.projection, dataDirectory: out)
                snapshotWritten = true
            }
            try await filler.commit([event])
        }
        try await filler.close()
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
