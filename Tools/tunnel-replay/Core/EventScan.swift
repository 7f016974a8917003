import EventLog
import Registry

/// Which events a listing keeps: every filter given must match.
struct EventFilter: Sendable {
    var name: String?
    var id: String?
    var node: String?
    /// nil keeps every service event (and control records only with `includeControl`).
    var kinds: Set<EventKind>?
    /// Keep `start` and `stall` records too (`events --all`).
    var includeControl = false

    func matches(_ event: RegistryEvent) -> Bool {
        if let kinds {
            guard kinds.contains(event.kind) else { return false }
        } else if !includeControl, !event.kind.isServiceEvent {
            return false
        }
        if let name, event.service.name != name { return false }
        if let id, event.service.id != id { return false }
        if let node, event.service.node != node { return false }
        return true
    }
}

/// Where a scan starts.
enum ScanStart: Sendable {
    case beginning
    /// The first record at or after this time (skips whole segments before it).
    case time(Int64)
    /// The first record with this sequence or later.
    case sequence(UInt64)
}

/// Reads decoded events in sequence order, with progress on a terminal's stderr.
struct EventScan {
    let reader: EventLogReader
    let logPath: String

    init(directory: DataDirectory) throws(ReplayError) {
        reader = try directory.reader()
        logPath = directory.logPath
    }

    /// Calls `body` with each event from `start` until `until` (inclusive) or the end of the
    /// log; `body` returns false to stop early. Control records are passed too.
    func scan(
        from start: ScanStart, until: Int64? = nil, _ body: (RegistryEvent) throws(ReplayError) -> Bool
    ) throws(ReplayError) {
        var cursor = try makeCursor(start)
        var progress = Progress(label: "scanning", total: totalRecords())
        defer { progress.finish() }
        while true {
            let event: RegistryEvent
            do {
                guard let record = try cursor.next() else { return }
                if let until, record.timestampMicroseconds > until { return }
                event = try decode(record)
            } catch let error as ReplayError {
                throw error
            } catch {
                throw .readFailed("reading the log in '\(logPath)' failed: \(error); run verify to locate the damage")
            }
            progress.tick()
            guard try body(event) else { return }
        }
    }

    /// A cursor positioned at `start`.
    func makeCursor(_ start: ScanStart) throws(ReplayError) -> LogCursor {
        do {
            switch start {
            case .beginning: return try reader.cursor(fromSequence: 1)
            case .time(let time): return try reader.cursor(fromTimestamp: time)
            case .sequence(let sequence): return try reader.cursor(fromSequence: sequence)
            }
        } catch {
            throw .readFailed("cannot position a reader in '\(logPath)': \(error); run verify to locate the damage")
        }
    }

    func decode(_ record: LogRecord) throws(ReplayError) -> RegistryEvent {
        do {
            return try EventCodec.decode(record)
        } catch {
            throw .readFailed(
                "record \(record.sequence) in '\(logPath)' does not decode: \(error); run verify to list every"
                    + " damaged record")
        }
    }

    /// Records in the log according to the segment headers (0 when unknown).
    func totalRecords() -> UInt64 {
        guard let segments = try? reader.segments(), let last = segments.last(where: { $0.lastSequence > 0 }),
            let first = segments.first
        else { return 0 }
        return last.lastSequence >= first.firstSequence ? last.lastSequence - first.firstSequence + 1 : 0
    }
}
