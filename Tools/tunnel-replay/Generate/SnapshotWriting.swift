import FileStore
import Registry

/// Writes a projection as a snapshot of a data directory, through the Registry's own store.
enum SnapshotWriting {
    /// Keeps every snapshot (the benchmark wants one in the middle of the log).
    static func write(_ projection: Projection, dataDirectory: String) throws {
        try SnapshotStore(directory: dataDirectory + "/snapshots").write(projection, keep: Int.max)
    }
}
