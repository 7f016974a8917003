import Registry

/// What the sweeper reads from the projection in one pass: every lease lapsed by `time`, in
/// batches of `batch` taken from the lease index (a synchronous stand-in for `Registry.sweep()`,
/// so callgrind, which cannot follow the actor's threads here, counts the same work).
@inline(never)
func sweeperRead(_ projection: inout Projection, at time: Int64, batch: Int) -> Int {
    var count = 0
    while true {
        let taken = projection.takeLapsedLeases(at: time, limit: batch)
        count += taken.leases.count
        if taken.leases.isEmpty && taken.complete { return count }
    }
}
