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
        abstract: "Write one self-contained HTML page: SVG timeline of tunnels × time by node, expiries, flaps."
    )

    @Option(name: .long, help: "The registry's data directory (holding log/ and snapshots/).")
    var dataDir: String = "./data"
    @Option(name: [.customShort("o"), .long], help: "The HTML file to write.") var output: String
    @Option(help: "Flap window (as in flaps).") var window: String = "10m"
    @Option(help: "Flap threshold (as in flaps).") var min: Int = 3
    @OptionGroup var range: RangeOptions

    func run() throws {
        guard let windowMicroseconds = DurationText.parse(window), (1...1_000_000).contains(min) else {
            throw ReplayError.usage("--window must be a duration like 10m and --min 1 to 1000000")
        }
        let (since, until) = try range.resolve()
        let directory = try DataDirectory(path: dataDir)
        var nodes = NodeTracker()
        var events = 0
        var first: Int64?
        var last: Int64?
        let sessions = try SessionQuery.sessions(
            directory: directory,
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
        let start = since ?? first ?? 0
        let input = ReportInput(
            dataDirectory: dataDir,
            startMicroseconds: start,
            endMicroseconds: until ?? last ?? start,
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
        try Self.write(ReportHTML.render(input), to: output)
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
