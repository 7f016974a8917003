import ArgumentParser

/// `stats`: one object describing the whole log, from the segment headers.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Events, segments, bytes on disk, bytes per event, time span (segment headers only).",
        discussion: """
            Reads only the segments' headers and seals, so it answers at once on any log. On a
            shared log (--postgres) segments and bytes are 0: the rows live in PostgreSQL.
            by_kind is null unless --by-kind, which reads every record.
            """
    )

    @OptionGroup var common: CommonOptions
    @Flag(help: "Also count events by kind (reads every record; without it by_kind is null).")
    var byKind = false

    func run() throws {
        let scan = try EventScan(source: common.source())
        var stats = LogStats()
        if let postgres = scan.postgres {
            try stats.add(postgres)
        } else {
            stats.add(try scan.segments())
        }
        if byKind {
            stats.byKind = try KindCounts.count(scan)
        }
        let writer = common.writer(columns: LogStats.columns)
        writer.write(stats.cells)
        writer.finish()
    }
}
