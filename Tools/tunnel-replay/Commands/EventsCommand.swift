import ArgumentParser
import Registry

/// `events`: every event in sequence order, filtered.
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List events (register, renew, deregister, expire) in log order."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var service: ServiceFilterOptions
    @Option(help: "Only this connector id.") var id: String?
    @Option(
        help: "Only these kinds, comma-separated: register,renew,deregister,expire (start,stall are control records)."
    )
    var kind: String?
    @Flag(help: "Also list control records (start, stall) that decide expiry.") var all = false
    @OptionGroup var range: RangeOptions

    func run() throws {
        let filter = try EventFilter(
            name: service.name,
            id: id,
            node: service.node,
            kinds: EventRow.parseKinds(kind),
            includeControl: all
        )
        let (since, until) = try range.resolve()
        let scan = try EventScan(source: common.source())
        if common.format == .json {
            try Self.writeJSON(scan, filter: EventViewFilter(filter), since: since, until: until)
            return
        }
        let writer = common.writer(columns: EventRow.columns(for: scan))
        try scan.scan(from: since.map(ScanStart.time) ?? .beginning, until: until) { event in
            if filter.matches(event) { writer.writeEvent(event) }
            return true
        }
        writer.finish()
    }
}

extension EventsCommand {
    static let jsonChunkBytes = 256 << 10

    /// The json listing: worker threads decode and encode jobs of the log, printed in order.
    static func writeJSON(_ scan: EventScan, filter: EventViewFilter, since: Int64?, until: Int64?)
        throws(ReplayError)
    {
        let jobs = try scan.jobs(since: since, until: until)
        let sink = OutputSink()
        var progress = Progress(label: "scanning", total: scan.totalRecords())
        defer { progress.finish() }
        try scan.runJobs(jobs) { job, emit in
            let encoder = EventJSONEncoder(capacity: jsonChunkBytes + 64 << 10)
            var records = 0
            try scan.read(job) { sequence, time, payload in
                if let until, time > until { return false }
                records += 1
                if let since, time < since { return true }
                let view = try EventCodec.view(payload, sequence: sequence)
                guard filter.matches(view) else { return true }
                encoder.append(sequence: sequence, time: time, view)
                if encoder.count >= jsonChunkBytes {
                    emit(JobOutput(bytes: encoder.take(), records: records))
                    records = 0
                }
                return true
            }
            emit(JobOutput(bytes: encoder.take(), records: records))
        } consume: { output in
            sink.write(bytes: output.bytes)
            progress.advance(by: output.records)
            return true
        }
        sink.flush()
    }
}

/// The fixed fields of an event row.
enum EventRow {
    static let columns = ["seq", "time", "kind", "id", "name", "node", "network", "address", "peer"]

    /// The columns of a text or csv listing: `instance` last when the log records which instance
    /// logged each event (a cluster's shared log, or a data directory exported from one).
    static func columns(for scan: EventScan) -> [String] {
        recordsInstances(scan: scan) ? columns + ["instance"] : columns
    }

    /// True for a shared log, and for a data directory whose first record names an instance.
    private static func recordsInstances(scan: EventScan) -> Bool {
        guard scan.postgres == nil else { return true }
        guard var cursor = try? scan.makeCursor(.beginning), let first = try? scan.next(&cursor) else { return false }
        return !first.instance.isEmpty
    }

    static func cells(_ event: RegistryEvent, instance: Bool = false) -> [Cell] {
        var cells: [Cell] = [
            .int(Int64(event.sequence)), .time(event.timeMicroseconds), .text(event.kind.rawValue),
            .text(event.service.id), .text(event.service.name), .text(event.service.node),
            .text(event.service.network), .text(event.service.address), .text(event.peer),
        ]
        if instance { cells.append(.text(event.instance)) }
        return cells
    }

    /// `register,expire` → the kinds; nil for no filter; a usage error naming a bad kind.
    static func parseKinds(_ text: String?) throws(ReplayError) -> Set<EventKind>? {
        guard let text else { return nil }
        var kinds: Set<EventKind> = []
        for part in text.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: " ")
            guard let kind = EventKind(rawValue: trimmed) else {
                let known = EventKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw .usage("unknown --kind '\(trimmed)': use one or more of \(known), comma-separated")
            }
            kinds.insert(kind)
        }
        guard !kinds.isEmpty else { throw .usage("--kind is empty: name at least one kind, e.g. --kind expire") }
        return kinds
    }
}

extension Substring {
    func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}

extension RowWriter {
    /// Writes one event row; json is encoded straight from the event into the scratch buffer
    /// (the hot path of `events` and `follow`), other formats go through cells.
    func writeEvent(_ event: RegistryEvent) {
        guard format == .json, columns == EventRow.columns else {
            write(EventRow.cells(event, instance: columns.count > EventRow.columns.count))
            return
        }
        var row = RowCursor(scratch)
        row.put(UInt8(ascii: "{"))
        row.put(jsonKeys[0])
        row.putUnsigned(event.sequence)
        row.put(UInt8(ascii: ","))
        row.put(jsonKeys[1])
        row.put(UInt8(ascii: "\""))
        Timestamp.withFormatted(event.timeMicroseconds) { row.put($0) }
        row.put(UInt8(ascii: "\""))
        putField(2, event.kind.rawValue, &row)
        putField(3, event.service.id, &row)
        putField(4, event.service.name, &row)
        putField(5, event.service.node, &row)
        putField(6, event.service.network, &row)
        putField(7, event.service.address, &row)
        putField(8, event.peer, &row)
        if !event.instance.isEmpty {
            row.put(Self.instanceKey)
            row.putJSONString(event.instance)
        }
        row.put(UInt8(ascii: "}"))
        row.put(UInt8(ascii: "\n"))
        sink.buffer.append(contentsOf: row.bytes)
        sink.flushIfFull()
    }

    /// Cluster mode only: which registry instance logged the event (absent when standalone).
    private static let instanceKey = Array(#","instance":"#.utf8)

    private func putField(_ column: Int, _ value: String, _ row: inout RowCursor) {
        row.put(UInt8(ascii: ","))
        row.put(jsonKeys[column])
        row.putJSONString(value)
    }
}
