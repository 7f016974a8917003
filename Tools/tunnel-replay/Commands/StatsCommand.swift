import ArgumentParser

/// `stats`: one object describing the whole log, from the segment headers.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Events by kind, segments, bytes on disk, bytes per event, time span (segment headers only).",
        discussion: """
            Reads the segments' headers, seals and tally frames, so it answers at once on any log: \
            a rewritten (dense) segment counts its events by kind in its tally frame. Only the \
            segments without one are read record by record for by_kind: the newest segment, a \
            sealed one not rewritten yet, and segments written by builds before the tally. On a \
            shared log (--postgres) segments and bytes are 0 (the rows live in PostgreSQL) and \
            by_kind is counted by reading every record.
            """
    )

    @OptionGroup var common: CommonOptions
    @Flag(help: "Kept for compatibility: by_kind is always filled; the flag changes nothing.")
    var byKind = false

    func run() throws {
        let scan = try EventScan(source: common.source())
        var stats = LogStats()
        if let postgres = scan.postgres {
            try stats.add(postgres)
            stats.byKind = try KindCounts.count(scan)
        } else {
            let segments = try scan.segments()
            stats.add(segments)
            stats.byKind = try KindCounts.count(scan, segments: segments)
        }
        let writer = common.writer(columns: LogStats.columns)
        writer.write(stats.cells)
        writer.finish()
    }
}
