import Logging

/// The Registry's snapshots in the shared log's database (table `snapshot`): the projection's
/// plain snapshot bytes in the same envelope as batch rows (zstd + CRC32C, docs/FORMAT.md).
/// Only the sweeper leader writes (over its fenced connection), so a cluster stores each
/// snapshot once; loading skips damaged snapshots and takes the newest valid one.
public final class SharedSnapshotStore: Sendable {
    private let store: SharedEventStore

    /// Snapshots kept beside `store`'s log.
    public init(store: SharedEventStore) {
        self.store = store
    }

    /// Stores `plain` as the snapshot at `sequence` and keeps the newest `keep`; returns the bytes
    /// stored, or 0 without writing when this instance does not lead the sweeper.
    func write(plain: [UInt8], sequence: UInt64, keep: Int) async throws -> Int {
        guard store.leadership.isLeader else { return 0 }
        let blob = Envelope.seal(plain, level: store.configuration.compressionLevel)
        let logger = store.logger
        do {
            try await store.leadership.withLeaderConnection(
                "writing the snapshot at sequence \(sequence)", seconds: store.configuration.statementTimeoutSeconds
            ) { connection in
                try await SnapshotRows.write(sequence: sequence, blob: blob, keep: keep, on: connection, logger: logger)
                return true
            }
        } catch {
            store.metrics.databaseError()
            throw error
        }
        return blob.count
    }

    /// The newest snapshot at or before `sequence` that opens and that `decode` accepts; damaged
    /// ones are logged and skipped. Nil when none (or the database cannot be read: then a full
    /// replay is the fallback).
    func loadNewest<T>(atOrBefore sequence: UInt64, logger: Logger, decode: ([UInt8]) throws -> T) async -> T? {
        let queryLogger = store.logger
        let rows: [SnapshotRow]
        do {
            rows = try await store.reader.run(
                "listing snapshots", seconds: store.configuration.statementTimeoutSeconds
            ) { connection in try await SnapshotRows.list(atOrBefore: sequence, on: connection, logger: queryLogger) }
        } catch {
            logger.warning("cannot read snapshots; replaying the whole log", metadata: ["error": "\(error)"])
            return nil
        }
        for row in rows {
            switch Envelope.open(row.blob) {
            case .success(let plain):
                do {
                    return try decode(plain)
                } catch {
                    logger.error(
                        "snapshot does not decode; trying an older one",
                        metadata: ["snapshot.sequence": "\(row.sequence)", "error": "\(error)"])
                }
            case .failure(let failure):
                logger.error(
                    "snapshot is damaged; trying an older one",
                    metadata: ["snapshot.sequence": "\(row.sequence)", "error": "\(failure.reason)"])
            }
        }
        return nil
    }
}
