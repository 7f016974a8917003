import ArgumentParser
import Registry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `report -o FILE.html`: one self-contained HTML page with the SVG timeline and summaries.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page: SVG timeline of tunnels × time by node, expiries, flaps.",
        discussion: """
            The timeline spans the data (its first to its last event), narrowed by --since/--until. \
            Prints one row when the page is written: file, bytes, start, end, tunnels, nodes, sessions, \
            events, flaps (--format text, json or csv).
            """
    )

    @OptionGroup var log: LogSourceOptions
    @OptionGroup var outputFormat: FormatOptions
    @Option(name: [.customShort("o"), .long], help: "The HTML file to write.") var output: String
    @Option(help: "Flap window (as in flaps).") var window: String = "10m"
    @Option(help: "Flap threshold (as in flaps).") var min: Int = 3
    @OptionGroup var range: RangeOptions

    func run() throws {
        guard let windowMicroseconds = DurationText.parse(window), (1...1_000_000).contains(min) else {
            throw ReplayError.usage("--window must be a duration like 10m and --min 1 to 1000000")
        }
        let (since, until) = try range.resolve()
        let source = try log.source()
        var nodes = NodeTracker()
        var events = 0
        var first: Int64?
        var last: Int64?
        let sessions = try SessionQuery.sessions(
            source: source,
            name: nil,
            node: nil,
            since: since,
            until: until,
            observe: { event in
                nodes.apply(event)
                events += 1
                first = first ?? event.timeMicroseconds
                last = event.timeMicroseconds
            }
        )
        let (start, end) = Self.range(since: since, until: until, dataFirst: first, dataLast: last)
        let input = ReportInput(
            dataDirectory: source.label,
            startMicroseconds: start,
            endMicroseconds: end,
            generatedAtMicroseconds: try WallClock.nowMicroseconds(),
            sessions: sessions,
            flaps: Flaps.episodes(
                of: sessions.filter { $0.startMicroseconds >= start },
                windowMicroseconds: windowMicroseconds,
                minimum: min
            ),
            nodes: nodes.summaries(sessions: sessions),
            events: events
        )
        let html = ReportHTML.render(input)
        try Self.write(html, to: output)
        let writer = outputFormat.writer(columns: ReportOutput.columns)
        writer.write(ReportOutput.cells(input, file: output, bytes: html.utf8.count))
        writer.finish()
    }

    /// The time range drawn: the span of the data, narrowed by --since/--until; the range as given
    /// when no event falls inside it.
    static func range(since: Int64?, until: Int64?, dataFirst: Int64?, dataLast: Int64?) -> (Int64, Int64) {
        guard let dataFirst, let dataLast else {
            let start = since ?? until ?? 0
            return (start, until ?? start)
        }
        let start = Swift.max(since ?? dataFirst, dataFirst)
        let end = Swift.min(until ?? dataLast, dataLast)
        guard start <= end else {
            let given = since ?? dataFirst
            return (given, Swift.max(until ?? dataLast, given))
        }
        return (start, end)
    }

    static func write(_ text: String, to path: String) throws(ReplayError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw .usage("cannot write the report to '\(path)' (errno \(errno)): pick a writable path with -o")
        }
        defer { close(descriptor) }
        let sink = OutputSink(fileDescriptor: descriptor)
        sink.write(text)
        sink.flush()
    }
}
