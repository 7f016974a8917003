import CoreMetrics
import Logging

extension Registry {
    /// Appends `events` in one commit, folds them once every earlier record is folded, and
    /// returns the effect of the last. `asLeader` sends them over the store's fenced leader path
    /// (lease expiry and control records). Throws `RegistryError.unavailable` when the log fails.
    func commit(_ events: [RegistryEvent], asLeader: Bool = false) async throws -> ApplyEffect {
        precondition(!events.isEmpty, "a commit needs at least one event")
        try await checkWritable()
        let payloads = events.map(EventCodec.encode)
        appendsInFlight += 1
        let position: StorePosition
        do {
            position = try await asLeader ? store.appendAsLeader(payloads) : store.append(payloads)
        } catch let error as NotSweeperLeaderError {
            appendsInFlight -= 1
            leading = false
            throw error
        } catch {
            appendsInFlight -= 1
            appendFailed(error)
            throw RegistryError.unavailable(
                "the event log cannot be written (\(error)); nothing was recorded, Get still answers; "
                    + "free disk space or fix the data directory, the registry retries by itself")
        }
        appendsInFlight -= 1
        let last = position.sequence + UInt64(events.count - 1)
        if last <= projection.lastSequence {
            // A shared log's tail delivered and folded these records before the append returned.
            precondition(store.isShared, "the log returned sequence \(last), already folded: \(projection.lastSequence)")
            return tailEffects.removeValue(forKey: last) ?? .renewed
        }
        for (offset, event) in events.enumerated() {
            var stamped = event
            stamped.sequence = position.sequence + UInt64(offset)
            stamped.timeMicroseconds = position.timeMicroseconds
            if stamped.sequence > projection.lastSequence { pending[stamped.sequence] = stamped }
        }
        expecting.insert(last)
        drainPending()
        if let effect = readyEffects.removeValue(forKey: last) { return effect }
        return try await withCheckedThrowingContinuation { continuation in
            waiters[last] = continuation
            waitingSince[last] = configuration.clock()
        }
    }

    /// Folds records that reached the store from any writer (a shared log's tail): those not
    /// folded yet join `pending` and fold in sequence order with this instance's own.
    public func ingest(_ records: [StoreRecord]) throws {
        for record in records where record.sequence > projection.lastSequence && pending[record.sequence] == nil {
            pending[record.sequence] = try EventCodec.decode(record)
        }
        drainPending()
    }

    /// Folds pending records while the next sequence is there.
    func drainPending() {
        while let event = pending.removeValue(forKey: projection.lastSequence + 1) {
            applied(event, projection.apply(event))
        }
    }

    /// Hands a folded record's effect to whoever waits for it.
    func applied(_ event: RegistryEvent, _ effect: ApplyEffect) {
        eventCounters[event.kind]?.increment()
        guard expecting.remove(event.sequence) != nil else {
            if store.isShared && appendsInFlight > 0 { rememberTailEffect(event.sequence, effect) }
            return
        }
        if let waiter = waiters.removeValue(forKey: event.sequence) {
            waitingSince[event.sequence] = nil
            waiter.resume(returning: effect)
        } else {
            readyEffects[event.sequence] = effect
        }
    }

    /// Keeps the effect of a record the tail folded while appends were in flight: one of them
    /// may be this instance's own, returning after its records were folded. Bounded.
    private func rememberTailEffect(_ sequence: UInt64, _ effect: ApplyEffect) {
        tailEffects[sequence] = effect
        if tailEffects.count > Registry.tailEffectsMax {
            let horizon = projection.lastSequence - UInt64(Registry.tailEffectsMax / 2)
            tailEffects = tailEffects.filter { $0.key > horizon }
        }
    }

    private func checkWritable() async throws {
        switch health {
        case .available:
            return
        case .closed:
            throw RegistryError.unavailable("the registry is shutting down; retry against the restarted server")
        case .recovering(let reason):
            throw RegistryError.unavailable(
                "the event log is being reopened after a write failure (\(reason)); Get still answers; retry shortly")
        case .unavailable(let reason, let lastAttempt):
            if configuration.clock() - lastAttempt >= configuration.recoveryIntervalMicroseconds {
                // Reopening a log does blocking file I/O: on the global pool, whatever executor the
                // caller prefers (the gRPC front's calls prefer NIO's event loops; docs/ARCHITECTURE.md,
                // "The fronts").
                await withTaskExecutorPreference(globalConcurrentExecutor) { await attemptRecovery() }
                if health == .available { return }
            }
            throw RegistryError.unavailable(
                "the event log cannot be written (\(reason)); Get still answers; "
                    + "free disk space or fix the data directory, the registry retries by itself")
        }
    }

    private func appendFailed(_ error: any Error) {
        guard health == .available else { return }
        logger.error(
            "event log append failed; mutations answer unavailable until the log is writable again",
            metadata: ["error": "\(error)"])
        health = .unavailable(reason: "\(error)", lastAttemptMicroseconds: configuration.clock())
    }

    /// Reopens the log and folds what it holds; runs from the sweeper and from a mutation
    /// once `recoveryIntervalMicroseconds` passed since the last try.
    func attemptRecovery() async {
        guard case .unavailable(let reason, _) = health, appendsInFlight == 0 else { return }
        health = .recovering(reason: reason)
        do {
            try await store.recover()
            drainPending()
            if try await store.durableSequence() > projection.lastSequence {
                var folded = projection
                var effects: [(RegistryEvent, ApplyEffect)] = []
                try await Registry.fold(store: store, into: &folded, logger: logger) { effects.append(($0, $1)) }
                let before = projection.lastSequence
                if folded.lastSequence > before {
                    projection = folded
                    for (event, effect) in effects where event.sequence > before { applied(event, effect) }
                }
                pending = pending.filter { $0.key > projection.lastSequence }
                drainPending()
            }
            failStrandedWaiters()
            health = .available
            // After a shared log was unwritable the leader grants fresh leases again.
            if store.isShared { leading = false }
            logger.notice("event log writable again", metadata: ["log.sequence": "\(projection.lastSequence)"])
        } catch {
            health = .unavailable(reason: "\(error)", lastAttemptMicroseconds: configuration.clock())
            logger.warning("event log still not writable", metadata: ["error": "\(error)"])
        }
    }

    /// With no append in flight, a waiter still waiting waits for a record that will never come.
    func failStrandedWaiters() {
        guard appendsInFlight == 0 else { return }
        for (sequence, waiter) in waiters {
            waiter.resume(
                throwing: RegistryError.unavailable(
                    "record \(sequence) was acknowledged but is not in the log after a write failure; retry"))
        }
        waiters = [:]
        waitingSince = [:]
        expecting = []
        readyEffects = [:]
        pending = [:]
    }

    /// Cluster mode: answers unavailable to writes whose records were committed but have waited
    /// longer than `foldWaitMicroseconds` to fold here, because records other instances committed
    /// before them have not arrived (the tail is cut off, e.g. the database went away right after
    /// the commit). Their records stay in the log and fold when the tail returns; a retried
    /// Register, Renew or Deregister is harmless. Returns how many writes were answered.
    @discardableResult
    public func failLateWaiters() -> Int {
        let horizon = configuration.clock() - configuration.foldWaitMicroseconds
        let late = waitingSince.filter { $0.value <= horizon }.keys
        for sequence in late {
            waitingSince[sequence] = nil
            expecting.remove(sequence)
            waiters.removeValue(forKey: sequence)?.resume(
                throwing: RegistryError.unavailable(
                    "the write was committed to the shared log as record \(sequence), but records logged before it "
                        + "by other instances have not reached this instance (is the database reachable?); "
                        + "Get still answers; retry, a repeated write is harmless"))
        }
        return late.count
    }
}
