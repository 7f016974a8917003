import Registry
import Logging
import PostgresNIO
import Synchronization

/// The Registry's event store on PostgreSQL: one shared, dense, commit-ordered log for every
/// instance of a cluster (README.md, "Cluster mode"; tables in docs/FORMAT.md). Appends of one process
/// share one statement (group commit) and answer within the configured write timeout; the tail
/// delivers what every instance commits; one instance leads the sweeper and, while it leads,
/// merges old rows densely. Open with `open(_:logger:)`, end with `close()`.
public final class SharedEventStore: Sendable {
    let configuration: SharedLogConfiguration
    let connector: Connector
    let metrics: SharedLogMetrics
    let leadership: Leadership
    /// The group commit's connections, one per lane; the first also prepares the schema and checks recovery.
    private let writers: [ConnectionSlot]
    private var writer: ConnectionSlot { writers[0] }
    let reader: ConnectionSlot
    private let committer: GroupCommitter
    /// This store's acknowledged commits, for a tail that omits them.
    let ownCommits = OwnCommits()
    let merger: Merger
    private let background: Mutex<[Task<Void, Never>]>
    let logger: Logger

    private init(configuration: SharedLogConfiguration, connector: Connector, logger: Logger) {
        self.configuration = configuration
        self.connector = connector
        self.logger = logger
        let metrics = SharedLogMetrics()
        self.metrics = metrics
        let writers = (0..<max(1, configuration.appendStatementsInFlight)).map {
            ConnectionSlot(connector: connector, role: "writer \($0)")
        }
        self.writers = writers
        reader = ConnectionSlot(connector: connector, role: "reader")
        leadership = Leadership(
            connector: connector, checkSeconds: configuration.leaderCheckSeconds,
            statementSeconds: configuration.writeTimeoutSeconds, metrics: metrics, logger: logger)
        let level = configuration.compressionLevel
        let ownCommits = ownCommits
        committer = GroupCommitter(
            timeoutSeconds: configuration.writeTimeoutSeconds, recordsMax: configuration.appendRecordsMax,
            lanes: writers.count
        ) { lane, payloads, seconds in
            let frame = BatchFrame.encode(payloads: payloads, level: level)
            do {
                let appended = try await writers[lane].run("appending \(payloads.count) records", seconds: seconds) {
                    connection in
                    try await LogQueries.runPreparedAppend(
                        count: payloads.count, frame: frame, on: connection, logger: logger)
                }
                guard let appended else {
                    throw SharedLogError(.database, "\(connector.url.label): the append returned no row (log_head missing?)")
                }
                ownCommits.acknowledged(
                    first: appended.position.sequence, count: payloads.count, lane: lane, writerPID: appended.writerPID)
                return appended.position
            } catch {
                metrics.databaseError()
                throw error
            }
        }
        background = Mutex([])
        merger = Merger(
            slot: ConnectionSlot(connector: connector, role: "merger"), configuration: configuration,
            statementSeconds: configuration.statementTimeoutSeconds, logger: logger)
    }

    /// Connects, creates or migrates the schema, and starts the leadership and merger tasks.
    /// Throws one clear line naming host and database on a bad URL, wrong credentials, a
    /// database that is down, or a schema newer than this build.
    public static func open(_ configuration: SharedLogConfiguration, logger: Logger) async throws -> SharedEventStore {
        let url = try DatabaseURL(configuration.url)
        let connector = try Connector(
            url: url, instance: configuration.instance, connectTimeoutSeconds: configuration.connectTimeoutSeconds,
            logger: logger)
        let store = SharedEventStore(configuration: configuration, connector: connector, logger: logger)
        do {
            try await store.writer.run("preparing schema tunnel_registry", seconds: configuration.statementTimeoutSeconds) {
                connection in try await Schema.prepare(on: connection, url: url, logger: logger)
            }
        } catch {
            await store.writer.close()
            throw error
        }
        store.metrics.leading(false)
        store.startBackground()
        return store
    }

    private func startBackground() {
        var tasks: [Task<Void, Never>] = []
        if configuration.participatesInLeadership {
            let leadership = leadership
            tasks.append(Task { await leadership.run() })
            if configuration.mergeIntervalSeconds > 0 {
                let merger = merger
                let seconds = configuration.mergeIntervalSeconds
                let logger = logger
                let metrics = metrics
                tasks.append(
                    Task {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .seconds(seconds))
                            guard leadership.isLeader else { continue }
                            do {
                                let pass = try await merger.mergeOnce()
                                if pass.runs > 0 {
                                    logger.debug(
                                        "merged batch rows",
                                        metadata: ["merge.rows": "\(pass.rowsRemoved)", "merge.records": "\(pass.records)"])
                                }
                            } catch {
                                metrics.databaseError()
                                logger.warning("merging batch rows failed", metadata: ["error": "\(error)"])
                            }
                        }
                    })
            }
        }
        background.withLock { $0 = tasks }
    }

    /// Appends the payloads as one commit with contiguous sequences (sharing a statement with
    /// concurrent callers); returns the first's position once committed. Answers within the
    /// write timeout; throws `SharedLogError` (`unavailable`, `timeout`) when the database is not there.
    public func append(_ payloads: [[UInt8]]) async throws -> StorePosition {
        try await committer.append(payloads)
    }

    /// Appends over the sweeper leader's own connection with a statement that checks the lock
    /// (fencing). Throws the Registry's `NotSweeperLeaderError` when this instance does not lead,
    /// or lost its session or the lock on the way (the leadership is then given up at once).
    public func appendAsLeader(_ payloads: [[UInt8]]) async throws -> StorePosition {
        let query = LogQueries.append(
            count: payloads.count, frame: BatchFrame.encode(payloads: payloads, level: configuration.compressionLevel),
            fenced: true)
        let logger = logger
        let position: StorePosition?
        do {
            position = try await leadership.withLeaderConnection(
                "appending \(payloads.count) records as leader", seconds: configuration.writeTimeoutSeconds
            ) { connection in try await LogQueries.runAppend(query, on: connection, logger: logger) }
        } catch {
            if error.kind != .notLeader { metrics.databaseError() }
            guard error.kind == .database, leadership.isLeader else {
                throw NotSweeperLeaderError(reason: error.description)
            }
            throw error
        }
        guard let position else {
            leadership.lost(reason: "the advisory lock is no longer held by the session")
            throw NotSweeperLeaderError(
                reason: "\(connector.url.label): the leader session no longer holds the sweeper lock")
        }
        return position
    }

    /// True while this instance holds the sweeper lock on a live connection.
    public func leadsSweeper() async -> Bool {
        leadership.isLeader
    }

    /// True: other instances append to the same log.
    public var isShared: Bool { true }

    /// Calls `body` with every committed record whose sequence is at least `sequence`, in order.
    public func read(fromSequence sequence: UInt64, _ body: (StoreRecord) throws -> Void) async throws {
        try await LogReading.read(
            after: sequence == 0 ? 0 : sequence - 1, slot: reader, seconds: configuration.statementTimeoutSeconds,
            logger: logger, body)
    }

    /// The highest committed sequence (0 when empty).
    public func durableSequence() async throws -> UInt64 {
        let logger = logger
        return try await reader.run("reading log_head", seconds: configuration.statementTimeoutSeconds) { connection in
            try await LogQueries.head(on: connection, logger: logger).sequence
        }
    }

    /// Succeeds once the database answers again; throws while it does not.
    public func recover() async throws {
        let logger = logger
        try await writer.run("checking the database", seconds: configuration.writeTimeoutSeconds) { connection in
            try await connection.query("SELECT 1", logger: logger)
            return true
        }
    }

    /// Record batches after `sequence` as any instance commits them, in order, never skipping one;
    /// with `tailOmitsOwnAppends`, except the commits this store's `append` acknowledged (their
    /// callers hold them already): the batches then have holes exactly there.
    public func records(after sequence: UInt64) -> AsyncThrowingStream<[StoreRecord], any Error> {
        Tail(
            connector: connector, pollSeconds: configuration.pollIntervalSeconds,
            statementSeconds: configuration.statementTimeoutSeconds, metrics: metrics,
            own: configuration.tailOmitsOwnAppends ? ownCommits : nil, logger: logger
        ).stream(after: sequence)
    }

    /// Runs the merger now, whatever the leadership (tools and benchmarks); returns the records
    /// rewritten into dense rows (0: nothing qualified).
    public func mergeNow() async throws -> Int {
        try await merger.mergeOnce().records
    }

    /// Stops the background tasks, gives the leadership up, fails queued appends, closes connections.
    public func close() async throws {
        let tasks = background.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        committer.close()
        for writer in writers { await writer.close() }
        await reader.close()
        await merger.slot.close()
    }
}
