import EventLog
import Registry

/// The `stats` object: the log's events, size on disk and time span from the segment headers,
/// and the counts by kind (`KindCounts`: tally frames, and the records of segments without one).
struct LogStats: Sendable, Equatable {
    var events: Int = 0
    /// nil until counted (`KindCounts`).
    var byKind: [EventKind: Int]?
    var segments: Int = 0
    var bytes: Int = 0
    var firstMicroseconds: Int64?
    var lastMicroseconds: Int64?

    var bytesPerEvent: Double { events > 0 ? Double(bytes) / Double(events) : 0 }

    /// Events, bytes and span from segment descriptions (headers and seals: no decompression).
    mutating func add(_ segmentInfos: [SegmentInfo]) {
        segments += segmentInfos.count
        bytes += segmentInfos.reduce(0) { $0 + $1.bytes }
        for segment in segmentInfos where segment.lastSequence >= segment.firstSequence && segment.lastSequence > 0 {
            events += Int(segment.lastSequence - segment.firstSequence + 1)
            if firstMicroseconds == nil { firstMicroseconds = segment.firstTimestampMicroseconds }
            lastMicroseconds = segment.lastTimestampMicroseconds
        }
    }

    /// Events and span of a shared log: its head, and the time of its first record.
    mutating func add(_ postgres: PostgresLog) throws(ReplayError) {
        let head = try postgres.head()
        guard head.sequence > 0 else { return }
        events += Int(head.sequence)
        var first: Int64?
        do {
            try postgres.read(fromSequence: 1) { record in
                first = record.timeMicroseconds
                return false
            }
        } catch {
            throw .readFailed(PostgresLog.message(error, doing: "reading the first record of the shared log failed"))
        }
        firstMicroseconds = first
        lastMicroseconds = head.timeMicroseconds
    }

    /// The row `stats` prints; `by_kind` lists every kind, zeros included, in a fixed order (null
    /// only when not counted).
    var cells: [Cell] {
        [
            .int(Int64(events)),
            byKind.map { counts in .object(EventKind.allCases.map { ($0.rawValue, .int(Int64(counts[$0] ?? 0))) }) }
                ?? .null,
            .int(Int64(segments)), .int(Int64(bytes)), .decimal(bytesPerEvent),
            .optionalTime(firstMicroseconds), .optionalTime(lastMicroseconds),
        ]
    }

    static let columns = ["events", "by_kind", "segments", "bytes", "bytes_per_event", "first", "last"]
}
