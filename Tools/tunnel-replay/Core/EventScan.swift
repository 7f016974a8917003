import EventLog
import FileStore
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

/// Reads decoded events in sequence order through the Registry's own log reader (a data
/// directory) or the shared log's reader (PostgreSQL), with progress on a terminal's stderr.
struct EventScan: Sendable {
    /// The data directory's reader; nil when reading PostgreSQL.
    let reader: RegistryLogReader?
    /// The shared log; nil when reading a data directory.
    let postgres: PostgresLog?
    /// What messages name: the log directory or the shared log.
    let logPath: String

    init(directory: DataDirectory) throws(ReplayError) {
        do {
            reader = try RegistryLogReader(dataDirectory: directory.path)
        } catch {
            throw .unreadable(
                "cannot read the log in '\(directory.logPath)': \(error); check permissions, or run verify"
            )
        }
        postgres = nil
        logPath = directory.logPath
    }

    init(source: LogSource) throws(ReplayError) {
        switch source {
        case .directory(let directory):
            self = try EventScan(directory: directory)
        case .postgres(let log):
            self = EventScan(postgres: log)
        }
    }

    private init(postgres log: PostgresLog) {
        reader = nil
        postgres = log
        logPath = log.label
    }

    /// Calls `body` with each event from `start` until `until` (inclusive) or the end of the
    /// log; `body` returns false to stop early. Control records are passed too.
    func scan(
        from start: ScanStart,
        until: Int64? = nil,
        _ body: (RegistryEvent) throws(ReplayError) -> Bool
    ) throws(ReplayError) {
        let jobs: [LogJob]
        let since: Int64?
        switch start {
        case .beginning:
            since = nil
            jobs = try self.jobs(fromSequence: 1, until: until)
        case .sequence(let sequence):
            since = nil
            jobs = try self.jobs(fromSequence: max(sequence, 1), until: until)
        case .time(let time):
            since = time
            jobs = try self.jobs(since: time, until: until)
        }
        var progress = Progress(label: "scanning", total: totalRecords())
        defer { progress.finish() }
        var failure: ReplayError?
        let scan = self
        try runJobs(jobs) { (job: LogJob, emit: (DecodedEvents) -> Void) in
            var chunk = DecodedEvents()
            chunk.events.reserveCapacity(Self.eventsPerChunk)
            try scan.read(job) { sequence, time, payload in
                if let until, time > until {
                    chunk.reachedUntil = true
                    return false
                }
                chunk.records += 1
                if let since, time < since { return true }
                chunk.events.append(try EventCodec.decode(payload, sequence: sequence, time: time))
                if chunk.events.count >= Self.eventsPerChunk {
                    emit(chunk)
                    chunk = DecodedEvents()
                    chunk.events.reserveCapacity(Self.eventsPerChunk)
                }
                return true
            }
            emit(chunk)
        } consume: { chunk in
            progress.advance(by: chunk.records)
            for event in chunk.events {
                do throws(ReplayError) {
                    guard try body(event) else { return false }
                } catch {
                    failure = error
                    return false
                }
            }
            return !chunk.reachedUntil
        }
        if let failure { throw failure }
    }

    /// Events decoded per unit handed from a worker to the scanning thread.
    static let eventsPerChunk = 4096

    /// A cursor positioned at `start`.
    func makeCursor(_ start: ScanStart) throws(ReplayError) -> RegistryEventCursor {
        guard let reader else { preconditionFailure("makeCursor reads a data directory; follow reads PostgreSQL itself") }
        do {
            switch start {
            case .beginning: return try reader.events(fromSequence: 1)
            case .time(let time): return try reader.events(fromTimestamp: time)
            case .sequence(let sequence): return try reader.events(fromSequence: sequence)
            }
        } catch {
            throw .readFailed("cannot position a reader in '\(logPath)': \(error); run verify to locate the damage")
        }
    }

    /// The next event, nil at the last whole commit; damage becomes an exit-2 message.
    func next(_ cursor: inout RegistryEventCursor) throws(ReplayError) -> RegistryEvent? {
        do {
            return try cursor.next()
        } catch {
            throw .readFailed("reading the log in '\(logPath)' failed: \(error); run verify to list every problem")
        }
    }

    /// The projection of the newest snapshot whose last record is at or before `time` (an empty
    /// one when none loads); damaged snapshots are skipped with a warning.
    func newestSnapshot(atOrBefore time: Int64) -> Projection {
        guard let reader else {
            return postgres?.newestSnapshot { $0.lastTimeMicroseconds <= time } ?? Projection()
        }
        let snapshots = reader.snapshots
        for sequence in (try? snapshots.sequences())?.reversed() ?? [] {
            guard let info = try? snapshots.info(sequence: sequence), info.lastTimeMicroseconds <= time else { continue }
            do {
                return try snapshots.load(sequence: sequence, deferringLapsed: true)
            } catch {
                Diagnostics.warn("snapshot \(sequence) skipped: \(error)")
            }
        }
        return Projection()
    }

    /// Segment descriptions from headers (no decompression).
    func segments() throws(ReplayError) -> [SegmentInfo] {
        guard let reader else { return [] }
        do {
            return try reader.log.segments()
        } catch {
            throw .unreadable("cannot list the segments in '\(logPath)': \(error); run verify to locate the damage")
        }
    }

    /// The last sequence in the log according to the segment headers (0 when empty).
    func lastSequence() -> UInt64 {
        guard let reader else { return (try? postgres?.head().sequence) ?? 0 }
        return Self.lastSequence(of: (try? reader.log.segments()) ?? [])
    }

    /// The last sequence segments listed already hold (0 when none holds a record).
    static func lastSequence(of segments: [SegmentInfo]) -> UInt64 {
        segments.last(where: { $0.lastSequence > 0 })?.lastSequence ?? 0
    }

    /// Records in the log according to the segment headers (0 when unknown).
    func totalRecords() -> UInt64 {
        guard let reader else { return lastSequence() }
        guard let first = (try? reader.log.segments())?.first else { return 0 }
        let last = lastSequence()
        return last >= first.firstSequence ? last - first.firstSequence + 1 : 0
    }
}

/// A run of decoded events handed from a worker thread to the scanning thread.
struct DecodedEvents: Sendable {
    var events: [RegistryEvent] = []
    /// Records read for them (those before the scan's start included), for progress.
    var records = 0
    /// The job met a record after the scan's end: no later job matters.
    var reachedUntil = false
}
