import ArgumentParser

/// `timeline --name N`: when tunnel N had a live connector, per node.
struct TimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "The windows when a tunnel had at least one live connector, per node."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "The tunnel (service name).") var name: String
    @OptionGroup var range: RangeOptions

    static let columns = ["name", "node", "start", "end"]

    func run() throws {
        let (since, until) = try range.resolve()
        let sessions: [Session]
        if let since {
            sessions = try SessionQuery.sessions(
                seekingTo: since, source: common.source(), name: name, node: nil, until: until)
        } else {
            sessions = try SessionQuery.sessions(
                source: common.source(), name: name, node: nil, since: nil, until: until)
        }
        let writer = common.writer(columns: Self.columns)
        for window in Timeline.windows(of: sessions) {
            writer.write([
                .text(window.name), .text(window.node), .time(window.startMicroseconds),
                .optionalTime(window.endMicroseconds),
            ])
        }
        writer.finish()
    }
}
