import BenchSupport
import Registry

#if canImport(Glibc)
import Glibc
#endif

/// CPU nanoseconds this thread used so far: a step's cost without the time other processes took
/// the core (the machine is shared).
func threadCPUNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// The storm's work per step, without the actor: `count` leases lapse together and are taken and
/// expired in batches of `batch`, as `Registry.sweep()` does; prints the longest steps, so the
/// step that stalls Get (the actor is held for one step) shows with its batch number. Steps are
/// timed in the thread's CPU time.
func stormSteps(count: Int, batch: Int) {
    let workload = Workload(count: count)
    let start = RegistryBench.startMicroseconds
    var projection = Projection()
    for index in 0..<count {
        let record = StoreRecord(
            sequence: UInt64(index + 1),
            timeMicroseconds: start,
            payload: workload.registerPayload(index)
        )
        projection.apply(try! EventCodec.decode(record))
    }
    let now = start + 46_000_000
    var sequence = UInt64(count)
    var steps: [(nanoseconds: UInt64, kind: String, batch: Int, lapsed: Int)] = []
    var number = 0
    let began = threadCPUNanoseconds()
    while true {
        var started = threadCPUNanoseconds()
        let taken = projection.takeLapsedLeases(at: now, limit: batch)
        let events = taken.leases.map { lease in
            RegistryEvent(
                sequence: 0,
                timeMicroseconds: 0,
                kind: .expire,
                service: lease.service,
                peer: "",
                lapsedAtMicroseconds: lease.leaseExpiresAtMicroseconds,
                renewSequence: lease.lastRenewSequence == 0 ? nil : lease.lastRenewSequence,
                instance: ""
            )
        }
        let payloads = events.map(EventCodec.encode)
        steps.append((threadCPUNanoseconds() - started, "take+encode", number, projection.lapsedEntryCount))
        if taken.leases.isEmpty {
            if taken.complete { break }
            continue
        }
        started = threadCPUNanoseconds()
        for var event in events {
            sequence += 1
            event.sequence = sequence
            event.timeMicroseconds = now
            projection.apply(event)
        }
        steps.append((threadCPUNanoseconds() - started, "fold", number, projection.lapsedEntryCount))
        withExtendedLifetime(payloads) {}
        number += 1
    }
    let total = milliseconds(threadCPUNanoseconds() - began)
    precondition(projection.lapsedEntryCount == count, "lapsed \(projection.lapsedEntryCount) of \(count)")
    let folds = steps.filter { $0.kind == "fold" }.map { milliseconds($0.nanoseconds) }.sorted()
    print(
        "steps \(count) lapse in batches of \(batch): \(format(total, 0)) ms CPU in all; fold step median "
            + "\(format(folds[folds.count / 2])) ms"
    )
    for step in steps.sorted(by: { $0.nanoseconds > $1.nanoseconds }).prefix(8) {
        print(
            "  \(format(milliseconds(step.nanoseconds))) ms \(step.kind) batch \(step.batch) (lapsed after: \(step.lapsed))"
        )
    }
}
