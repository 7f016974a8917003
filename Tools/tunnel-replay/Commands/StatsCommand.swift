import ArgumentParser

/// `stats`: one object describing the whole log.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Events by kind, segments, bytes on disk, bytes per event, time span."
    )

    @OptionGroup var common: CommonOptions

    func run() throws {
        let directory = try common.directory()
        let scan = try EventScan(directory: directory)
        var stats = LogStats()
        stats.add(try scan.segments())
        try scan.scan(from: .beginning) { event in
            stats.apply(event)
            return true
        }
        let writer = common.writer(columns: LogStats.columns)
        writer.write(stats.cells)
        writer.finish()
    }
}
