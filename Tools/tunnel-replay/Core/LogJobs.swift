import FileStore
import EventLog
import Registry

/// A stretch of the log one worker thread reads on its own: a sealed segment, or a run of the
/// dense blocks of one (each an independent zstd frame), or the newest segment to its end.
struct LogJob: Sendable, Equatable {
    var firstSequence: UInt64
    /// nil: to the end of what is written.
    var lastSequence: UInt64?
}

extension EventScan {
    /// Records a job aims at: enough to keep both cores busy, few enough to bound memory.
    static let jobRecordsTarget: UInt64 = 400_000

    /// Jobs covering the records from `sequence` on, in order; segments wholly before `since` or
    /// after `until` (by their headers) are left out.
    func jobs(fromSequence sequence: UInt64 = 1, since: Int64? = nil, until: Int64? = nil) throws(ReplayError)
        -> [LogJob]
    {
        if postgres != nil { return try postgresJobs(fromSequence: sequence, since: since) }
        return jobs(of: try segments(), fromSequence: sequence, since: since, until: until)
    }

    /// `jobs(fromSequence:since:until:)` over segments listed already (`segments()`; listing
    /// scans the newest segment's commits, so threads reading one log list once), none starting
    /// after `lastSequence`. A data directory's only.
    func jobs(
        of segments: [SegmentInfo],
        fromSequence sequence: UInt64,
        through lastSequence: UInt64 = .max,
        since: Int64? = nil,
        until: Int64? = nil
    ) -> [LogJob] {
        var jobs: [LogJob] = []
        for segment in segments {
            if segment.firstSequence > lastSequence { break }
            let holdsRecords = segment.lastSequence >= segment.firstSequence && segment.lastSequence > 0
            if segment.isSealed && holdsRecords {
                if segment.lastSequence < sequence { continue }
                if let since, segment.lastTimestampMicroseconds < since { continue }
            }
            if let until, holdsRecords, segment.firstTimestampMicroseconds > until { break }
            let first = max(segment.firstSequence, sequence)
            guard segment.isSealed else {
                jobs.append(LogJob(firstSequence: first, lastSequence: nil))
                break
            }
            guard holdsRecords else { continue }
            jobs += split(segment, from: first)
        }
        return jobs
    }

    /// A sealed segment as runs of whole dense blocks of about `jobRecordsTarget` records.
    private func split(_ segment: SegmentInfo, from first: UInt64) -> [LogJob] {
        let starts = ((try? reader?.log.denseBlockStarts(fileName: segment.fileName)) ?? []).filter { $0 > first }
        var jobs: [LogJob] = []
        var jobStart = first
        for start in starts where start - jobStart >= Self.jobRecordsTarget && start <= segment.lastSequence {
            jobs.append(LogJob(firstSequence: jobStart, lastSequence: start - 1))
            jobStart = start
        }
        jobs.append(LogJob(firstSequence: jobStart, lastSequence: segment.lastSequence))
        return jobs
    }

    /// Calls `body` with each record of `job` in order (sequence, time, payload valid only inside
    /// the call) until the job ends or `body` returns false; returns false when stopped.
    /// `whileValid`, when given, is called after each run of records (a decoded batch of a data
    /// directory's log, a single record of the shared log) while their payloads are still
    /// valid: a caller that holds payloads back rather than copy them folds them there.
    @discardableResult
    func read(
        _ job: LogJob,
        whileValid end: () throws -> Void = {},
        _ body: (_ sequence: UInt64, _ time: Int64, _ payload: UnsafeRawBufferPointer) throws -> Bool
    ) throws -> Bool {
        guard let reader else { return try readPostgres(job, whileValid: end, body) }
        var cursor = try reader.log.cursor(fromSequence: job.firstSequence)
        let last = job.lastSequence ?? .max
        var stopped = false
        while let batch = try cursor.nextBatch() {
            try batch.forEach(
                { sequence, time, payload in
                    guard sequence <= last else { return false }
                    guard try body(sequence, time, payload) else {
                        stopped = true
                        return false
                    }
                    return true
                },
                whileValid: end)
            if stopped { return false }
            if batch.lastSequence >= last { return true }
        }
        return true
    }

    /// The shared log is read as one job (its reader is one connection): from `sequence`, or
    /// from the first record at or after `since`; none when nothing was committed since then.
    private func postgresJobs(fromSequence sequence: UInt64, since: Int64?) throws(ReplayError) -> [LogJob] {
        guard let postgres, let since else { return [LogJob(firstSequence: max(sequence, 1), lastSequence: nil)] }
        guard let first = try postgres.firstSequence(atOrAfter: since) else { return [] }
        return [LogJob(firstSequence: max(sequence, first), lastSequence: nil)]
    }

    private func readPostgres(
        _ job: LogJob,
        whileValid end: () throws -> Void,
        _ body: (_ sequence: UInt64, _ time: Int64, _ payload: UnsafeRawBufferPointer) throws -> Bool
    ) throws -> Bool {
        guard let postgres else { return true }
        let last = job.lastSequence ?? .max
        var stopped = false
        try postgres.read(fromSequence: job.firstSequence) { record in
            guard record.sequence <= last else { return false }
            let more = try record.payload.withUnsafeBytes { payload in
                let more = try body(record.sequence, record.timeMicroseconds, payload)
                try end()
                return more
            }
            if !more { stopped = true }
            return more
        }
        return !stopped
    }

    /// Runs `produce` for each job on worker threads and `consume` on this thread with what they
    /// emit, jobs in order; read and decode failures become exit-2 messages.
    func runJobs<Unit: Sendable>(
        _ jobs: [LogJob],
        produce: @escaping @Sendable (_ job: LogJob, _ emit: (Unit) -> Void) throws -> Void,
        consume: (Unit) throws -> Bool
    ) throws(ReplayError) {
        do {
            try OrderedWork<Unit>.run(
                jobCount: jobs.count,
                threads: ScanThreads.count,
                produce: { index, emit in
                    var failure: (any Error)?
                    try produce(jobs[index]) { unit in
                        guard failure == nil else { return }
                        do { try emit(unit) } catch { failure = error }
                    }
                    if let failure { throw failure }
                },
                consume: consume
            )
        } catch {
            throw readFailure(error)
        }
    }

    /// Runs `produce(0)` to `produce(count - 1)` on as many threads and calls `consume` with
    /// each result, in that order; failures become exit-2 messages as `runJobs` makes them.
    func runParallel<Unit: Sendable>(
        count: Int,
        produce: @escaping @Sendable (_ index: Int) throws -> Unit,
        consume: (Unit) -> Void
    ) throws(ReplayError) {
        do {
            try OrderedWork<Unit>.run(
                jobCount: count, threads: count, produce: { index, emit in try emit(produce(index)) },
                consume: { unit in
                    consume(unit)
                    return true
                })
        } catch {
            throw readFailure(error)
        }
    }

    private func readFailure(_ error: any Error) -> ReplayError {
        if let error = error as? ReplayError { return error }
        return .readFailed("reading the log in '\(logPath)' failed: \(error); run verify to list every problem")
    }
}

/// What a job of `events --format json` hands over: encoded rows and the records read for them.
struct JobOutput: Sendable {
    var bytes: [UInt8]
    var records: Int
}
