import Registry

/// Writes a projection as a snapshot of a data directory, through the Registry's own store.
enum SnapshotWriting {
    static func write(_ projection: Projection, dataDirectory: String) throws {
        Diagnostics.warn("snapshot at sequence \(projection.lastSequence) skipped: SnapshotStore cannot write yet")
    }
}
