import ArgumentParser
import Registry

/// `state --at T | --seq S`: what Get would have returned then.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Every service Get would have returned at an instant (or after a sequence)."
    )

    @OptionGroup var common: CommonOptions
    @Option(parsing: .unconditional, help: "The instant: RFC 3339 or relative (-2h); default: now.") var at: String?
    @Option(help: "The state right after this sequence number.") var seq: UInt64?
    @OptionGroup var service: ServiceFilterOptions
    @Flag(help: "Replay the whole log instead of starting from the newest snapshot.") var noSnapshots = false

    static let columns = ["id", "name", "node", "network", "address", "registered", "last_renew"]

    func run() throws {
        let point: StatePoint
        switch (at, seq) {
        case (let text?, nil):
            point = .time(try TimeArgument.parse(text, nowMicroseconds: try WallClock.nowMicroseconds()))
        case (nil, let sequence?): point = .sequence(sequence)
        case (nil, nil): point = .time(try WallClock.nowMicroseconds())
        case (_?, _?): throw ReplayError.usage("give one of --at TIME or --seq SEQUENCE, not both")
        }
        var query = StateQuery(scan: try EventScan(source: common.source()))
        query.useSnapshots = !noSnapshots
        let result = try query.projection(at: point)
        let writer = common.writer(columns: Self.columns)
        for live in Self.rows(result.projection, at: result.instantMicroseconds, name: service.name, node: service.node)
        {
            writer.write(Self.cells(live))
        }
        writer.finish()
    }

    /// The live services, sorted by name, node, id (Get's own order is shuffled).
    static func rows(_ projection: Projection, at instant: Int64, name: String?, node: String?) -> [LiveService] {
        let live = name.map { projection.liveServices(named: $0, at: instant) } ?? projection.liveServices(at: instant)
        return live.filter { node == nil || $0.service.node == node }.sorted {
            ($0.service.name, $0.service.node, $0.service.id) < ($1.service.name, $1.service.node, $1.service.id)
        }
    }

    static func cells(_ live: LiveService) -> [Cell] {
        [
            .text(live.service.id), .text(live.service.name), .text(live.service.node), .text(live.service.network),
            .text(live.service.address), .time(live.registeredAtMicroseconds), .time(live.lastRenewAtMicroseconds),
        ]
    }
}
