import ArgumentParser
import Registry

/// `flaps`: tunnels whose connectors reconnected often within a window.
struct FlapsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flaps",
        abstract: "Tunnels that reconnected at least --min times within --window."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var service: ServiceFilterOptions
    @Option(help: "The sliding window (10m, 90s, 1h).") var window: String = "10m"
    @Option(help: "Reconnects within the window that make a flap.") var min: Int = 3
    @OptionGroup var range: RangeOptions

    static let columns = ["name", "reconnects", "first", "last", "nodes", "times"]

    func run() throws {
        guard let windowMicroseconds = DurationText.parse(window) else {
            throw ReplayError.usage("cannot read --window '\(window)': write a duration like 10m, 90s or 1h")
        }
        guard (1...1_000_000).contains(min) else {
            throw ReplayError.usage("--min \(min) is out of range: use 1 to 1000000")
        }
        let (since, until) = try range.resolve()
        let sessions = try SessionQuery.sessions(
            source: common.source(),
            name: service.name,
            node: service.node,
            since: since,
            until: until
        )
        let inRange = sessions.filter { session in since.map { session.startMicroseconds >= $0 } ?? true }
        let writer = common.writer(columns: Self.columns)
        for episode in Flaps.episodes(of: inRange, windowMicroseconds: windowMicroseconds, minimum: min) {
            writer.write(Self.cells(episode))
        }
        writer.finish()
    }

    static func cells(_ episode: FlapEpisode) -> [Cell] {
        [
            .text(episode.name), .int(Int64(episode.reconnects)), .time(episode.firstMicroseconds),
            .time(episode.lastMicroseconds), .list(episode.nodes.map(Cell.text)),
            .list(episode.times.map(Cell.time)),
        ]
    }
}
