import EventLog
import Registry

/// `stats`' counts by kind: a dense segment's come from its tally frame (`SegmentInfo.tally`,
/// scheme `EventCodec.tallyScheme`); every other segment's records (the newest segment, a sealed
/// one not rewritten yet, logs of builds before the tally, a shared log) are counted on the
/// worker threads, each one's fields checked as `events` checks them (`EventCodec.view`) but
/// none decoded into strings.
struct KindCounts: Sendable {
    /// Counts by scheme-1 tally slot (`EventCodec.tallySlot`), the numbering of the tally frames.
    var counts = [Int](repeating: 0, count: RecordTally.slotCount)
    var records = 0

    /// Records between two progress updates from one job.
    static let recordsPerUnit = 1 << 20

    /// The kinds of every record of a data directory's log, `segments` as `EventScan.segments()`
    /// listed them: tallies summed, the segments without one read.
    static func count(_ scan: EventScan, segments: [SegmentInfo]) throws(ReplayError) -> [EventKind: Int] {
        var total = KindCounts()
        var unread: [SegmentInfo] = []
        for segment in segments {
            if let tally = segment.tally, tally.scheme == EventCodec.tallyScheme {
                try total.add(tally, of: segment, in: scan.logPath)
            } else {
                unread.append(segment)
            }
        }
        // Each job stops at its segment's listed end (the newest one may grow meanwhile), so the
        // counts add up to the events the same listing gives.
        let holding = unread.filter { $0.lastSequence >= $0.firstSequence && $0.lastSequence > 0 }
        let jobs = holding.flatMap { segment in
            scan.jobs(of: [segment], fromSequence: segment.firstSequence).map {
                LogJob(
                    firstSequence: $0.firstSequence, lastSequence: min($0.lastSequence ?? .max, segment.lastSequence))
            }
        }
        let records = holding.reduce(UInt64(0)) { $0 + $1.lastSequence - $1.firstSequence + 1 }
        try read(scan, jobs: jobs, records: records, into: &total)
        return total.byKind
    }

    /// The kinds of every record of a shared log (no segments, no tallies: every row is read).
    static func count(_ scan: EventScan) throws(ReplayError) -> [EventKind: Int] {
        var total = KindCounts()
        try read(scan, jobs: try scan.jobs(), records: scan.totalRecords(), into: &total)
        return total.byKind
    }

    private static func read(
        _ scan: EventScan, jobs: [LogJob], records: UInt64, into total: inout KindCounts
    ) throws(ReplayError) {
        guard !jobs.isEmpty else { return }
        var progress = Progress(label: "counting", total: records)
        defer { progress.finish() }
        try scan.runJobs(jobs) { (job: LogJob, emit: (KindCounts) -> Void) in
            var unit = KindCounts()
            _ = try scan.read(job) { sequence, _, payload in
                _ = try EventCodec.view(payload, sequence: sequence)
                unit.counts[EventCodec.decodedTallySlot(payload)] += 1
                unit.records += 1
                if unit.records >= Self.recordsPerUnit {
                    emit(unit)
                    unit = KindCounts()
                }
                return true
            }
            emit(unit)
        } consume: { unit in
            for (index, count) in unit.counts.enumerated() { total.counts[index] += count }
            progress.advance(by: unit.records)
            return true
        }
    }

    /// Adds a scheme-1 tally; a record counted outside the kinds' slots has an unknown version or
    /// kind, an error as decoding it would be.
    private mutating func add(_ tally: SegmentTally, of segment: SegmentInfo, in logPath: String) throws(ReplayError) {
        for (slot, count) in tally.counts.enumerated() where count > 0 {
            guard EventCodec.kind(tallySlot: slot) != nil else {
                throw .readFailed(
                    "segment \(segment.fileName) in '\(logPath)' counts \(count) records of an unknown version or kind "
                        + "in its tally (slot \(slot)); run verify to locate them, "
                        + "or a newer tunnel-replay to read them")
            }
            counts[slot] += Int(count)
        }
    }

    /// Every kind's count, zeros included.
    private var byKind: [EventKind: Int] {
        var byKind: [EventKind: Int] = [:]
        for (slot, count) in counts.enumerated() {
            if let kind = EventCodec.kind(tallySlot: slot) { byKind[kind] = count }
        }
        return byKind
    }
}
