import Registry

/// `stats --by-kind`: every record counted by kind on the worker threads, each one's fields
/// checked as `events` checks them (`EventCodec.view`) but none decoded into strings.
struct KindCounts: Sendable {
    /// Counts by `slot(kind)`.
    var counts = [Int](repeating: 0, count: EventKind.allCases.count)
    var records = 0

    /// Records between two progress updates from one job.
    static let recordsPerUnit = 1 << 20

    /// The kinds of every record of the log.
    static func count(_ scan: EventScan) throws(ReplayError) -> [EventKind: Int] {
        let jobs = try scan.jobs()
        var progress = Progress(label: "counting", total: scan.totalRecords())
        defer { progress.finish() }
        var total = KindCounts()
        try scan.runJobs(jobs) { (job: LogJob, emit: (KindCounts) -> Void) in
            var unit = KindCounts()
            _ = try scan.read(job) { sequence, _, payload in
                let view = try EventCodec.view(payload, sequence: sequence)
                unit.counts[Self.slot(view.kind)] += 1
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
        var byKind: [EventKind: Int] = [:]
        for kind in EventKind.allCases { byKind[kind] = total.counts[Self.slot(kind)] }
        return byKind
    }

    /// Where `kind` is counted in `counts`; a switch, since a dictionary would hash the kind's raw
    /// string for every record.
    private static func slot(_ kind: EventKind) -> Int {
        switch kind {
        case .register: 0
        case .renew: 1
        case .deregister: 2
        case .expire: 3
        case .start: 4
        case .stall: 5
        }
    }
}
