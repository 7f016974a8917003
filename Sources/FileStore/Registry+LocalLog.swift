import EventLog
import Logging
import Registry

/// Settings of the embedded local log that the Registry itself does not need.
public struct LocalLogOptions: Sendable {
    /// When a commit is made durable (`--fsync`).
    public var fsync: FsyncPolicy = .always
    /// A new segment starts after this many bytes (`--segment-size`).
    public var segmentBytesMax: Int = 64 << 20
    /// History older than this is removed after each snapshot (`--retention`); nil keeps all.
    public var retentionMicroseconds: Int64?

    public init(fsync: FsyncPolicy = .always, segmentBytesMax: Int = 64 << 20, retentionMicroseconds: Int64? = nil) {
        self.fsync = fsync
        self.segmentBytesMax = segmentBytesMax
        self.retentionMicroseconds = retentionMicroseconds
    }
}

extension RegistryConfiguration {
    /// The log directory of the embedded local log, `DIR/log`.
    public var logDirectory: String { dataDirectory + "/log" }
    /// The snapshot directory, `DIR/snapshots`.
    public var snapshotDirectory: String { dataDirectory + "/snapshots" }
}

extension Registry {
    /// Opens the registry on its embedded local log in `configuration.dataDirectory`: takes the
    /// log lock, replays the newest snapshot (loaded while the log recovers) and the tail, and
    /// appends a `start` record that grants every restored lease a fresh TTL. With `localLog.retentionMicroseconds`, each
    /// snapshot written is followed by a retention pass (`LogRetention`).
    public static func open(
        _ configuration: RegistryConfiguration,
        localLog: LocalLogOptions = LocalLogOptions(),
        logger: Logger
    ) async throws -> Registry {
        try configuration.validate()
        try FileIO.makeDirectories(configuration.logDirectory)
        var logConfiguration = EventLogConfiguration(directory: configuration.logDirectory)
        logConfiguration.fsync = localLog.fsync
        logConfiguration.segmentBytesMax = localLog.segmentBytesMax
        logConfiguration.recordTally = .registryEvents
        let snapshots = SnapshotStore(directory: configuration.snapshotDirectory)
        // The newest snapshot loads while the writer recovers the log's tail.
        let preload = PreloadedSnapshotStore.Preload(snapshots)
        // The replay reads the log from the newest snapshot on: the records recovery decodes from
        // there are kept for it (the newest segment is one zstd stream, decoded once, not twice).
        let replayFrom = ((try? snapshots.sequences())?.last ?? 0) + 1
        let store = try await EventLogStore.open(
            logConfiguration, logger: logger, retainingRecordsFrom: replayFrom, clock: configuration.clock)
        var snapshotStore: any RegistrySnapshotStore = snapshots
        if let retention = localLog.retentionMicroseconds {
            snapshotStore = RetainingSnapshotStore(
                snapshots: snapshots,
                retention: LogRetention(
                    retentionMicroseconds: retention,
                    snapshots: snapshots,
                    log: store,
                    clock: configuration.clock,
                    logger: logger
                )
            )
        }
        do {
            let registry = try await open(
                configuration,
                store: store,
                snapshots: PreloadedSnapshotStore(snapshots: snapshotStore, preload: preload),
                logger: logger
            )
            store.discardRecoveredTail()
            return registry
        } catch {
            try? await store.close()
            throw error
        }
    }
}
