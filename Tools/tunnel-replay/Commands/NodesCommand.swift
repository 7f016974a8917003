import ArgumentParser

/// `nodes`: per GOST node, live connectors and whether it went silent.
struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "Per node: live connectors, first and last seen, and when it went silent (crashed)."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var range: RangeOptions

    static let columns = [
        "node", "status", "live", "sessions", "first_seen", "last_seen", "silent_since", "lapsed_at",
    ]

    func run() throws {
        let (since, until) = try range.resolve()
        var tracker = NodeTracker()
        let sessions = try SessionQuery.sessions(
            source: common.source(),
            name: nil,
            node: nil,
            since: since,
            until: until,
            observe: { tracker.apply($0) }
        )
        let writer = common.writer(columns: Self.columns)
        for summary in tracker.summaries(sessions: sessions) { writer.write(Self.cells(summary)) }
        writer.finish()
    }

    static func cells(_ summary: NodeSummary) -> [Cell] {
        [
            .text(summary.node), .text(summary.status.rawValue), .int(Int64(summary.live)),
            .int(Int64(summary.sessions)), .time(summary.firstSeenMicroseconds), .time(summary.lastSeenMicroseconds),
            .optionalTime(summary.silentSinceMicroseconds), .optionalTime(summary.lapsedAtMicroseconds),
        ]
    }
}
