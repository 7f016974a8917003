import CoreMetrics
import Logging

extension Registry {
    /// Runs the lease sweeper (every `sweepIntervalMicroseconds`), log recovery and periodic
    /// snapshots until the task is cancelled.
    public func run() async throws {
        lastSweepAtMicroseconds = configuration.clock()
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .microseconds(configuration.sweepIntervalMicroseconds))
            } catch {
                break
            }
            await maintain()
        }
    }

    /// One round of `run()`: recover the log if due, sweep, snapshot if due.
    public func maintain() async {
        if case .unavailable(_, let lastAttempt) = health,
            configuration.clock() - lastAttempt >= configuration.recoveryIntervalMicroseconds
        {
            await attemptRecovery()
        }
        guard health == .available else { return }
        do {
            try await sweep()
        } catch {
            logger.warning("lease sweep failed", metadata: ["error": "\(error)"])
        }
        await snapshotIfDue()
    }

    /// Appends an `expire` record for every lease that lapsed by now, carrying the instant it
    /// lapsed. If the sweeper itself ran more than a lease late (a paused process, a clock
    /// jump), it appends a `stall` record that extends every lease instead. Returns how many
    /// expire records were appended.
    @discardableResult
    public func sweep() async throws -> Int {
        let now = configuration.clock()
        let late = now - lastSweepAtMicroseconds
        lastSweepAtMicroseconds = now
        if late > configuration.leaseTTLMicroseconds {
            logger.warning(
                "the sweeper ran late by more than a lease (paused process or clock jump): extending leases",
                metadata: ["sweep.late.milliseconds": "\(late / 1_000)"])
            _ = try await commit([
                Registry.controlEvent(.stall, leaseTTLMicroseconds: configuration.leaseTTLMicroseconds)
            ])
            return 0
        }
        let lapsed = projection.lapsedLeases(at: now)
        var appended = 0
        var start = 0
        while start < lapsed.count {
            let end = min(start + max(1, configuration.expireBatchMax), lapsed.count)
            let stillLapsed = lapsed[start..<end].filter { entry in
                projection.liveEntry(name: entry.service.name, id: entry.service.id)?.leaseExpiresAtMicroseconds
                    == entry.leaseExpiresAtMicroseconds
            }
            start = end
            guard !stillLapsed.isEmpty else { continue }
            _ = try await commit(stillLapsed.map(Registry.expireEvent))
            appended += stillLapsed.count
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
            bytes = try await Task.detached { try store.write(copy, keep: keep) }.value
        } catch {
            snapshotsFailed.increment()
            throw error
        }
        snapshotsWritten.increment()
        lastSnapshotSequence = copy.lastSequence
        lastSnapshotAtMicroseconds = configuration.clock()
        logger.info(
            "snapshot written",
            metadata: ["snapshot.sequence": "\(copy.lastSequence)", "snapshot.bytes": "\(bytes)"])
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
        if projection.lastSequence > lastSnapshotSequence {
            do {
                try await writeSnapshot()
            } catch {
                logger.warning(
                    "final snapshot failed; the next start replays more of the log", metadata: ["error": "\(error)"])
            }
        }
        try await store.close()
    }
}
