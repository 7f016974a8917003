import EventLog

/// The row `export` prints when done: the directory written, what it copied, and the log's size
/// and span there as `stats` reads them from the segment headers.
enum ExportOutput {
    static let columns = [
        "data_dir", "events", "commits", "segments", "bytes", "snapshots", "first", "last", "last_sequence",
    ]

    static func cells(_ summary: SharedLogExport.Summary, dataDirectory: String, segments: [SegmentInfo]) -> [Cell] {
        var stats = LogStats()
        stats.add(segments)
        return [
            .text(dataDirectory), sequence(summary.records), .int(Int64(summary.commits)), .int(Int64(stats.segments)),
            .int(Int64(stats.bytes)), .int(Int64(summary.snapshots)), .optionalTime(stats.firstMicroseconds),
            .optionalTime(stats.lastMicroseconds), sequence(EventScan.lastSequence(of: segments)),
        ]
    }

    private static func sequence(_ value: UInt64) -> Cell {
        Int64(exactly: value).map(Cell.int) ?? .text(String(value))
    }
}
