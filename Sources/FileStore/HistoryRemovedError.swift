/// A replay needs records that retention removed: the log now starts at `firstSequence`, and no
/// usable snapshot lets a fold start there.
public struct HistoryRemovedError: Error, Equatable, CustomStringConvertible {
    /// The first sequence the log still holds.
    public var firstSequence: UInt64
    /// The sequence the replay needed to start from.
    public var neededSequence: UInt64
    /// The earliest instant a fold can still show (the oldest usable snapshot's time), if any.
    public var replayableFromMicroseconds: Int64?
    /// The retention recorded in the data directory (e.g. `30d`), if any.
    public var retention: String?

    public init(
        firstSequence: UInt64, neededSequence: UInt64, replayableFromMicroseconds: Int64? = nil, retention: String?
    ) {
        self.firstSequence = firstSequence
        self.neededSequence = neededSequence
        self.replayableFromMicroseconds = replayableFromMicroseconds
        self.retention = retention
    }

    /// `(--retention 30d)`, or `(the server's --retention)` when it was not recorded.
    public var retentionOption: String {
        retention.map { "(--retention \($0))" } ?? "(the server's --retention)"
    }

    public var description: String {
        "the log starts at sequence \(firstSequence): records before it were removed by retention "
            + "\(retentionOption), and no usable snapshot at or after sequence \(firstSequence - 1) "
            + "covers sequence \(neededSequence); restore the snapshots directory from a backup, "
            + "or start with an empty --data-dir"
    }
}
