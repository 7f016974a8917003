import ArgumentParser
import Registry

/// `sessions`: one row per connector session.
struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "One row per connector session: start, end, how it ended, renews, longest gap."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var service: ServiceFilterOptions
    @OptionGroup var range: RangeOptions

    static let columns = [
        "id", "name", "node", "network", "address", "start", "end", "end_reason", "renews", "max_gap_s",
    ]

    func run() throws {
        let (since, until) = try range.resolve()
        let sessions = try SessionQuery.sessions(
            directory: common.directory(),
            name: service.name,
            node: service.node,
            since: since,
            until: until
        )
        let writer = common.writer(columns: Self.columns)
        for session in sessions { writer.write(Self.cells(session)) }
        writer.finish()
    }

    static func cells(_ session: Session) -> [Cell] {
        [
            .text(session.id), .text(session.name), .text(session.node), .text(session.network),
            .text(session.address), .time(session.startMicroseconds), .optionalTime(session.endMicroseconds),
            .text(session.end.rawValue), .int(Int64(session.renews)), .seconds(session.maxGapMicroseconds),
        ]
    }
}

/// Sessions of a data directory that overlap a range.
enum SessionQuery {
    /// Scans from the start of the log (a session open at `since` began earlier) to `until`.
    static func sessions(
        directory: DataDirectory,
        name: String?,
        node: String?,
        since: Int64?,
        until: Int64?,
        observe: (RegistryEvent) -> Void = { _ in }
    ) throws(ReplayError) -> [Session] {
        let scan = try EventScan(directory: directory)
        var tracker = SessionTracker()
        try scan.scan(from: .beginning, until: until) { event in
            // Control records (start, stall) move every lease, so they are folded whatever the filter.
            if let name, event.kind.isServiceEvent, event.service.name != name { return true }
            tracker.apply(event)
            observe(event)
            return true
        }
        return tracker.allSessions().filter { session in
            (node == nil || session.node == node) && session.overlaps(since: since, until: until)
        }
    }
}
