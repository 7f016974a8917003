#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs independent jobs (e.g. sealed stretches of the log) on worker threads and hands their
/// results to the calling thread in job order, so a scan can decode on both cores while its
/// output stays in sequence order.
///
/// Each job produces units (a buffer of output, an array of events) through `emit`; a job's
/// units wait in a bounded queue until the caller reaches that job, so memory stays bounded and
/// workers that run ahead block. Threads, not tasks: the workers block on the queue and on reads.
final class OrderedWork<Unit: Sendable>: @unchecked Sendable {
    /// Units a job may have queued before its worker waits.
    static var unitsQueuedMax: Int { 4 }

    private let lock = ThreadCondition()
    private let jobCount: Int
    private var queues: [[Unit]]
    private var finished: [Bool]
    private var failures: [(any Error)?]
    private var nextJob = 0
    private var cancelled = false

    private init(jobCount: Int) {
        self.jobCount = jobCount
        queues = Array(repeating: [], count: jobCount)
        finished = Array(repeating: false, count: jobCount)
        failures = Array(repeating: nil, count: jobCount)
    }

    /// Runs `produce(job, emit)` for each job in `0..<jobCount` on `threads` workers and calls
    /// `consume` with every unit, jobs in order; `consume` returns false to stop early. A job's
    /// error is thrown here once the units it emitted before failing were consumed.
    static func run(
        jobCount: Int,
        threads: Int,
        produce: @escaping @Sendable (_ job: Int, _ emit: (Unit) throws -> Void) throws -> Void,
        consume: (Unit) throws -> Bool
    ) throws {
        guard jobCount > 0 else { return }
        let work = OrderedWork(jobCount: jobCount)
        let workers = (0..<max(1, min(threads, jobCount))).map { _ in
            WorkerThread { work.workerLoop(produce) }
        }
        defer {
            work.cancel()
            for worker in workers { worker.join() }
        }
        for job in 0..<jobCount {
            while let unit = try work.take(job) {
                guard try consume(unit) else { return }
            }
        }
    }

    private struct Cancelled: Error {}

    private func workerLoop(_ produce: (Int, (Unit) throws -> Void) throws -> Void) {
        while let job = claim() {
            var failure: (any Error)?
            do {
                try produce(job) { unit in try self.put(unit, job: job) }
            } catch is Cancelled {
                return
            } catch {
                failure = error
            }
            lock.withLock {
                failures[job] = failure
                finished[job] = true
                lock.broadcast()
            }
        }
    }

    private func claim() -> Int? {
        lock.withLock {
            guard !cancelled, nextJob < jobCount else { return nil }
            defer { nextJob += 1 }
            return nextJob
        }
    }

    private func put(_ unit: Unit, job: Int) throws {
        try lock.withLock {
            while queues[job].count >= Self.unitsQueuedMax && !cancelled { lock.wait() }
            if cancelled { throw Cancelled() }
            queues[job].append(unit)
            lock.broadcast()
        }
    }

    /// The next unit of `job`, nil once the job finished and its units were taken.
    private func take(_ job: Int) throws -> Unit? {
        try lock.withLock {
            while queues[job].isEmpty && !finished[job] { lock.wait() }
            if !queues[job].isEmpty {
                lock.broadcast()
                return queues[job].removeFirst()
            }
            if let failure = failures[job] { throw failure }
            return nil
        }
    }

    private func cancel() {
        lock.withLock {
            cancelled = true
            lock.broadcast()
        }
    }
}

/// A pthread mutex with one condition variable.
final class ThreadCondition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a broadcast; call inside `withLock`.
    func wait() {
        pthread_cond_wait(condition, mutex)
    }

    func broadcast() {
        pthread_cond_broadcast(condition)
    }
}

/// A joinable thread running one closure.
final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()

    init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(WorkerBody(body))
        let result = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<WorkerBody>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "pthread_create failed with \(result)")
    }

    func join() {
        pthread_join(thread, nil)
    }
}

private final class WorkerBody: @unchecked Sendable {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}

/// How many worker threads scans use: the online CPUs, at most 4 (`TUNNEL_REPLAY_THREADS` overrides).
enum ScanThreads {
    static var count: Int {
        if let text = getenv("TUNNEL_REPLAY_THREADS"), let value = Int(String(cString: text)), value >= 1 {
            return min(value, 16)
        }
        return max(1, min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 4))
    }
}
