import FileStore
import Synchronization
import EventLog
import Registry

/// `verify`'s record and snapshot checks on a structurally sound log, spread over worker
/// threads: the log is cut at the snapshots, and each stretch is folded from the snapshot before
/// it (or from nothing) and compared with the snapshot after it. Every snapshot is thus checked
/// against the fold of the log up to it, by induction from the first, and the stretches run in
/// parallel. Every record is decoded (with `EventCodec`'s checks) and its sequence checked.
struct SnapshotIntervals {
    let directory: DataDirectory
    let scan: EventScan

    /// What one stretch found.
    struct Outcome: Sendable {
        var problems: [VerifyProblem] = []
        var records = 0
        /// The records counted, by segment and kind (`TallyCheck`).
        var kinds = SegmentKindCounts(lastSequences: [])
    }

    /// Stretches per worker thread on a long log: enough that the threads finish together.
    static let groupsPerThread = 8

    /// Checks records `firstSequence` (1 unless retention removed older segments) to
    /// `lastSequence` against `snapshots` (sequences at or before it, ascending), and the
    /// segments' tallies against the records (`tally`, made from the log's segments).
    func run(
        snapshots all: [UInt64], firstSequence: UInt64 = 1, lastSequence: UInt64, tally: TallyCheck
    ) throws(ReplayError) -> Outcome {
        // One stretch per snapshot; the records after the last one only decode, in block runs.
        // Consecutive stretches are grouped to about `groupRecords` records (eight groups per
        // thread on a long log), so each worker decodes its start snapshot once and compares
        // every snapshot it passes by bytes: a decode costs as much as folding tens of thousands
        // of records, a byte comparison a fraction of that.
        let groupRecords = max(
            EventScan.jobRecordsTarget,
            (lastSequence - min(firstSequence, lastSequence) + 1) / UInt64(ScanThreads.count * Self.groupsPerThread))
        var jobs: [(first: UInt64, last: UInt64, compare: Bool)] = []
        var first: UInt64 = firstSequence
        var total = Outcome()
        // After retention the log starts later: the oldest snapshot covering its start is taken as
        // given (the records up to it only decode), and later snapshots are checked from it.
        let snapshots = all.filter { $0 + 1 >= firstSequence }
        if firstSequence > 1 {
            guard let base = snapshots.first else {
                total.problems.append(
                    VerifyProblem(
                        file: "snapshots", offset: nil, sequence: firstSequence,
                        problem: "the log starts at sequence \(firstSequence) (retention removed older segments) "
                            + "but no snapshot at or after \(firstSequence - 1) covers it: the server cannot start"))
                return total
            }
            if base >= firstSequence { jobs.append((firstSequence, base, false)) }
            first = base + 1
        }
        for (index, sequence) in snapshots.enumerated() where sequence >= first && sequence <= lastSequence {
            let next = index + 1 < snapshots.count ? snapshots[index + 1] : UInt64.max
            guard sequence - first + 1 >= groupRecords || next > lastSequence else { continue }
            jobs.append((first, sequence, true))
            first = sequence + 1
        }
        if first <= lastSequence {
            for job in try scan.jobs(fromSequence: first) {
                jobs.append((job.firstSequence, min(job.lastSequence ?? lastSequence, lastSequence), false))
            }
        }
        let store = directory.snapshotStore()
        let directory = self.directory
        let scan = self.scan
        let specs = jobs
        let logJobs = jobs.map { LogJob(firstSequence: $0.first, lastSequence: $0.last) }
        var progress = Progress(label: "verifying", total: lastSequence)
        defer { progress.finish() }
        let readers = ReaderPool()
        var kindTotals = tally.emptyTotals()
        try scan.runJobs(logJobs) { (job: LogJob, emit: (Outcome) -> Void) in
            let spec = specs.first { $0.first == job.firstSequence }!
            let reader = readers.take()
            defer { readers.put(reader) }
            emit(
                Self.check(
                    job, compare: spec.compare, store: store, scan: scan, directory: directory, snapshots: snapshots,
                    reader: reader, kinds: tally.counter()))
        } consume: { outcome in
            total.problems += outcome.problems
            total.records += outcome.records
            tally.merge(outcome.kinds, into: &kindTotals)
            progress.advance(by: outcome.records)
            return true
        }
        total.problems += tally.problems(kindTotals)
        return total
    }

    /// Folds `job` from its start snapshot and compares the result with the snapshot at its end.
    private static func check(
        _ job: LogJob, compare: Bool, store: SnapshotStore, scan: EventScan,
        directory: DataDirectory, snapshots: [UInt64], reader: SnapshotBodyReader, kinds: SegmentKindCounts
    ) -> Outcome {
        guard compare else { return decodeOnly(job, scan: scan, kinds: kinds) }
        let last = job.lastSequence ?? .max
        var projection = Projection()
        // The nearest snapshot before the stretch that loads (a damaged one is reported by
        // the stretch it ends); the records between it and the stretch are folded, not counted.
        for sequence in snapshots.reversed() where sequence < job.firstSequence {
            guard let loaded = try? store.load(sequence: sequence) else { continue }
            projection = loaded
            break
        }
        let foldFrom = projection.lastSequence + 1
        let inside = snapshots.filter { $0 >= job.firstSequence && $0 < last }
        var stretch = StretchFold(
            projection: projection, firstCounted: job.firstSequence, inside: inside, store: store, directory: directory,
            reader: reader, kinds: kinds)
        defer { stretch.finish() }
        do {
            try scan.read(LogJob(firstSequence: foldFrom, lastSequence: last)) { sequence, time, payload in
                stretch.take(sequence: sequence, time: time, payload: payload)
                return true
            }
            stretch.flush()
        } catch {
            stretch.flush()
            stretch.outcome.problems.append(
                VerifyProblem(file: "log", offset: nil, sequence: stretch.expected, problem: "\(error)"))
            return stretch.outcome
        }
        guard !stretch.broken else { return stretch.outcome }
        stretch.compareSnapshot(at: last)
        return stretch.outcome
    }

    /// Checks that the records of `job` follow each other and decode (the records after the
    /// last snapshot, which no snapshot checks), counting them in `kinds`.
    private static func decodeOnly(_ job: LogJob, scan: EventScan, kinds: SegmentKindCounts) -> Outcome {
        var outcome = Outcome(kinds: kinds)
        var expected = job.firstSequence
        do {
            try scan.read(job) { sequence, time, payload in
                if sequence != expected {
                    outcome.problems.append(
                        VerifyProblem(
                            file: "log", offset: nil, sequence: sequence,
                            problem: "sequence \(sequence) follows \(expected - 1): records are missing"))
                }
                expected = sequence + 1
                outcome.records += 1
                outcome.kinds.count(sequence, payload)
                do {
                    _ = try EventCodec.view(payload, sequence: sequence)
                } catch {
                    outcome.problems.append(
                        VerifyProblem(file: "log", offset: nil, sequence: sequence, problem: "\(error)"))
                }
                return true
            }
        } catch {
            outcome.problems.append(VerifyProblem(file: "log", offset: nil, sequence: expected, problem: "\(error)"))
        }
        return outcome
    }

    /// The problem with the snapshot at `sequence`, if it does not load or differs from `fold`.
    /// Its bytes are compared with the fold's encoding (equal projections encode alike; the
    /// comparer re-encodes only what changed since the job's previous snapshot); only when they
    /// differ is it decoded and compared as a projection, which also accepts a version-1
    /// snapshot of the same view.
    /// The bytes are read by `reader` into storage the comparer is done with; should that fail,
    /// `projectionBytes` reads them again and says why.
    static func compareSnapshot(
        _ sequence: UInt64, _ fold: inout Projection, comparer: inout SnapshotComparer, reader: SnapshotBodyReader,
        store: SnapshotStore, directory: DataDirectory
    ) -> [VerifyProblem] {
        let file = directory.snapshotFile(sequence)
        do {
            var bytes = comparer.takeSpare()
            if !reader.read(store, sequence: sequence, into: &bytes) {
                bytes = try store.projectionBytes(sequence: sequence)
            }
            if comparer.matches(bytes, &fold) { return [] }
            let snapshot = try store.load(sequence: sequence)
            guard !snapshot.isSnapshot(of: fold) else { return [] }
            return [
                VerifyProblem(
                    file: file, offset: nil, sequence: sequence,
                    problem: "snapshot differs from the fold of the log up to sequence \(sequence)")
            ]
        } catch let error as SnapshotError {
            return [VerifyProblem(file: file, offset: nil, sequence: sequence, problem: error.reason)]
        } catch {
            return [VerifyProblem(file: file, offset: nil, sequence: sequence, problem: "cannot read: \(error)")]
        }
    }
}

/// The snapshot readers of `SnapshotIntervals`' stretches: a stretch takes one and puts it back,
/// so the next stretch on a thread reads into the memory the last one left (fresh buffers were
/// page-faulted in for every stretch).
private final class ReaderPool: Sendable {
    private let readers = Mutex<[SnapshotBodyReader]>([])

    func take() -> SnapshotBodyReader {
        readers.withLock { $0.popLast() } ?? SnapshotBodyReader()
    }

    func put(_ reader: SnapshotBodyReader) {
        readers.withLock { $0.append(reader) }
    }
}
