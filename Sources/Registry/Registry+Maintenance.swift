import CoreMetrics
import Logging

extension Registry {
    /// Runs the lease sweeper (every `effectiveSweepIntervalMicroseconds`), log recovery and periodic
    /// snapshots until the task is cancelled; on a shared log also folds what other instances
    /// append (the tail).
    public func run() async throws {
        lastSweepAtMicroseconds = configuration.clock()
        await withTaskGroup(of: Void.self) { group in
            if store.isShared {
                group.addTask { await self.followTail() }
                group.addTask { await self.failLateWaitersUntilCancelled() }
            }
            group.addTask { await self.maintainUntilCancelled() }
            await group.next()
            group.cancelAll()
        }
    }

    private func maintainUntilCancelled() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .microseconds(configuration.effectiveSweepIntervalMicroseconds))
            } catch {
                break
            }
            await maintain()
        }
    }

    /// Checks four times a second for writes that wait too long for the tail (`failLateWaiters`).
    private func failLateWaitersUntilCancelled() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(250))
            } catch {
                break
            }
            failLateWaiters()
        }
    }

    /// Folds the shared log's tail until cancelled; a broken stream is resubscribed after 1 s.
    private func followTail() async {
        while !Task.isCancelled {
            do {
                for try await batch in store.records(after: projection.lastSequence) {
                    try ingest(batch)
                }
                if Task.isCancelled { return }
            } catch {
                logger.warning(
                    "following the shared log failed; resubscribing",
                    metadata: ["error": "\(error)"]
                )
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// One round of `run()`: recover the log if due, sweep (on a shared log: only the leader),
    /// snapshot if due.
    public func maintain() async {
        if case .unavailable(_, let lastAttempt) = health,
            configuration.clock() - lastAttempt >= configuration.recoveryIntervalMicroseconds
        {
            await attemptRecovery()
        }
        guard health == .available else { return }
        guard await takeLeadership() else { return }
        do {
            try await sweep()
        } catch {
            logger.warning("lease sweep failed", metadata: ["error": "\(error)"])
        }
        await snapshotIfDue()
    }

    /// On a shared log: whether this instance leads the sweeper now. A new leader first appends
    /// a `start` record that grants every lease a fresh TTL, so a failover (or an outage of the
    /// log) never expires every tunnel at once.
    private func takeLeadership() async -> Bool {
        guard store.isShared else { return true }
        let leads = await store.leadsSweeper()
        guard leads else {
            if leading { logger.notice("this instance no longer leads the lease sweeper") }
            leading = false
            return false
        }
        if leading { return true }
        do {
            try await appendStart()
            leading = true
            lastSweepAtMicroseconds = configuration.clock()
            logger.notice(
                "this instance leads the lease sweeper; every lease got a fresh TTL",
                metadata: ["log.sequence": "\(projection.lastSequence)"]
            )
        } catch {
            logger.warning("taking over the lease sweeper failed", metadata: ["error": "\(error)"])
        }
        return leading
    }

    /// Appends an `expire` record for every lease that lapsed by now, carrying the instant it
    /// lapsed. If the sweeper itself ran more than a lease late (a paused process, a clock
    /// jump), it appends a `stall` record that extends every lease instead. Late means past the
    /// scheduled pause since the last sweep: with a lease no longer than that pause, counting the
    /// pause itself would call every sweep a stall and no lease would ever lapse. Returns how many
    /// expire records were appended.
    @discardableResult
    public func sweep() async throws -> Int {
        let now = configuration.clock()
        let late = now - lastSweepAtMicroseconds - configuration.effectiveSweepIntervalMicroseconds
        lastSweepAtMicroseconds = now
        if late > configuration.leaseTTLMicroseconds {
            logger.warning(
                "the sweeper ran late by more than a lease (paused process or clock jump): extending leases",
                metadata: ["sweep.late.milliseconds": "\(late / 1_000)"]
            )
            _ = try await commit(
                [controlEvent(.stall, leaseTTLMicroseconds: configuration.leaseTTLMicroseconds)],
                asLeader: true
            )
            return 0
        }
        // Batches come from the lease index (docs/ARCHITECTURE.md, "Registry semantics"): a pass
        // where nothing lapsed reads only the buckets that came due. The actor is released at
        // every commit and after every bounded walk of the index, so Get keeps answering.
        var unresolved: [LiveService] = []
        defer { projection.restoreLeaseIndex(unresolved) }
        var appended = 0
        while true {
            let batch = projection.takeLapsedLeases(at: now, limit: max(1, configuration.expireBatchMax))
            if !batch.leases.isEmpty {
                unresolved += batch.leases
                let events = batch.leases.map(expireEvent)
                await Task.yield()
                _ = try await commit(events, asLeader: true)
                // The commit folded the batch in this turn: let Get in before the next batch is taken.
                await Task.yield()
                appended += batch.leases.count
                // Leases whose expire folded are gone; the others (renewed meanwhile, or an expire
                // the fold ignored) return to the index when the sweep ends, not before, so one
                // sweep never takes a lease twice.
                unresolved = projection.leasesStillTaken(unresolved)
            } else if batch.complete {
                break
            } else {
                await Task.yield()
            }
        }
        return appended
    }

    /// Writes a snapshot when `snapshotEveryRecords` records or `snapshotIntervalMicroseconds`
    /// passed since the last one; failures are logged (the log stays the truth).
    public func snapshotIfDue() async {
        let records = projection.lastSequence - lastSnapshotSequence
        guard records > 0, !snapshotRunning else { return }
        let elapsed = configuration.clock() - lastSnapshotAtMicroseconds
        guard
            records >= UInt64(max(1, configuration.snapshotEveryRecords))
                || elapsed >= configuration.snapshotIntervalMicroseconds
        else { return }
        do {
            try await writeSnapshot()
        } catch {
            logger.warning("snapshot failed; the next start replays more of the log", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the projection as a snapshot now (off the actor) and prunes old ones.
    /// Returns the snapshot's sequence, or nil when one is already being written.
    @discardableResult
    public func writeSnapshot() async throws -> UInt64? {
        guard !snapshotRunning else { return nil }
        snapshotRunning = true
        defer { snapshotRunning = false }
        let copy = projection
        let store = snapshots
        let keep = configuration.snapshotsKept
        let bytes: Int
        do {
            bytes = try await Task.detached { try await store.write(copy, keep: keep) }.value
        } catch {
            snapshotsFailed.increment()
            throw error
        }
        snapshotsWritten.increment()
        lastSnapshotSequence = copy.lastSequence
        lastSnapshotAtMicroseconds = configuration.clock()
        logger.info(
            "snapshot written",
            metadata: ["snapshot.sequence": "\(copy.lastSequence)", "snapshot.bytes": "\(bytes)"]
        )
        return copy.lastSequence
    }

    /// Stops taking mutations, waits (up to 10 s) for appends in flight, writes a final
    /// snapshot, and fsyncs and closes the log.
    public func close() async throws {
        guard health != .closed else { return }
        health = .closed
        var waitedMilliseconds = 0
        while appendsInFlight > 0 && waitedMilliseconds < 10_000 {
            try? await Task.sleep(for: .milliseconds(1))
            waitedMilliseconds += 1
        }
        drainPending()
        failStrandedWaiters()
        if projection.lastSequence > lastSnapshotSequence && leading {
            do {
                try await writeSnapshot()
            } catch {
                logger.warning(
                    "final snapshot failed; the next start replays more of the log",
                    metadata: ["error": "\(error)"]
                )
            }
        }
        try await store.close()
    }
}
