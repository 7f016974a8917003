import ArgumentParser
import Registry

/// `sessions`: one row per connector session.
struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "One row per connector session: start, end, how it ended, renews, longest gap.",
        discussion: """
            With --since, the log before it is not read: sessions already open then start at their \
            registration (a lapse and revive before --since does not split them) and count renews \
            and the longest gap from --since on.
            """
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var service: ServiceFilterOptions
    @OptionGroup var range: RangeOptions

    static let columns = [
        "id", "name", "node", "network", "address", "start", "end", "end_reason", "renews", "max_gap_s",
    ]

    func run() throws {
        let (since, until) = try range.resolve()
        let sessions: [Session]
        if let since {
            sessions = try SessionQuery.sessions(
                seekingTo: since, source: common.source(), name: service.name, node: service.node, until: until)
        } else {
            sessions = try SessionQuery.sessions(
                source: common.source(), name: service.name, node: service.node, since: nil, until: until)
        }
        try SessionRows.write(sessions, format: common.format, to: OutputSink(), threads: ScanThreads.count)
    }

    /// A session's row as cells (what `SessionRows` renders straight to bytes).
    static func cells(_ session: Session) -> [Cell] {
        [
            .text(session.id), .text(session.name), .text(session.node), .text(session.network),
            .text(session.address), .time(session.startMicroseconds), .optionalTime(session.endMicroseconds),
            .text(session.end.rawValue), .int(Int64(session.renews)), .seconds(session.maxGapMicroseconds),
        ]
    }
}

/// Sessions of a log (data directory or shared log) that overlap a range.
enum SessionQuery {
    /// Sessions overlapping [since, until] without reading the log before `since`: the fold
    /// starts from the newest snapshot at or before `since` (whole segments and dense blocks
    /// before it are skipped unread), the records up to `since` only move the projection, and
    /// the leases live at `since` continue as sessions (`SessionTracker(continuing:at:name:)`).
    static func sessions(
        seekingTo since: Int64,
        source: LogSource,
        name: String?,
        node: String?,
        until: Int64?
    ) throws(ReplayError) -> [Session] {
        let scan = try EventScan(source: source)
        if let sessions = try inPieces(
            scan, seekingTo: since, name: name, until: until,
            keeping: { session in (node == nil || session.node == node) && session.overlaps(since: since, until: until) }
        ) {
            return sessions
        }
        var projection = scan.newestSnapshot(atOrBefore: since)
        if let sessions = try partitioned(
            scan, from: projection.lastSequence + 1, start: projection, seekingTo: since, name: name, until: until)
        {
            return sessions.filter { session in
                (node == nil || session.node == node) && session.overlaps(since: since, until: until)
            }
        }
        var tracker: SessionTracker?
        try scan.scan(from: .sequence(projection.lastSequence + 1), until: until) { event in
            if let name, event.kind.isServiceEvent, event.service.name != name { return true }
            if tracker == nil {
                guard event.timeMicroseconds >= since else {
                    projection.apply(event)
                    return true
                }
                tracker = SessionTracker(continuing: projection, at: since, name: name)
            }
            tracker?.apply(event)
            return true
        }
        let sessions = (tracker ?? SessionTracker(continuing: projection, at: since, name: name)).allSessions()
        return sessions.filter { session in
            (node == nil || session.node == node) && session.overlaps(since: since, until: until)
        }
    }

    /// Scans from the start of the log (a session open at `since` began earlier) to `until`.
    static func sessions(
        source: LogSource,
        name: String?,
        node: String?,
        since: Int64?,
        until: Int64?,
        observe: ((RegistryEvent) -> Void)? = nil
    ) throws(ReplayError) -> [Session] {
        let scan = try EventScan(source: source)
        if observe == nil,
            let sessions = try inPieces(
                scan, seekingTo: nil, name: name, until: until,
                keeping: { session in
                    (node == nil || session.node == node) && session.overlaps(since: since, until: until)
                })
        {
            return sessions
        }
        if observe == nil,
            let sessions = try partitioned(
                scan, from: 1, start: Projection(), seekingTo: nil, name: name, until: until)
        {
            return sessions.filter { session in
                (node == nil || session.node == node) && session.overlaps(since: since, until: until)
            }
        }
        var tracker = SessionTracker()
        try scan.scan(from: .beginning, until: until) { event in
            // Control records (start, stall) move every lease, so they are folded whatever the filter.
            if let name, event.kind.isServiceEvent, event.service.name != name { return true }
            tracker.apply(event)
            observe?(event)
            return true
        }
        return tracker.allSessions().filter { session in
            (node == nil || session.node == node) && session.overlaps(since: since, until: until)
        }
    }
}
