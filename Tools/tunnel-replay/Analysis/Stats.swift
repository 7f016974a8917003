import EventLog
import Registry

/// The `stats` object: counts by kind, the log's size on disk, and its time span.
struct LogStats: Sendable, Equatable {
    var events: Int = 0
    var byKind: [EventKind: Int] = [:]
    var segments: Int = 0
    var bytes: Int = 0
    var firstMicroseconds: Int64?
    var lastMicroseconds: Int64?

    var bytesPerEvent: Double { events > 0 ? Double(bytes) / Double(events) : 0 }

    mutating func apply(_ event: RegistryEvent) {
        events += 1
        byKind[event.kind, default: 0] += 1
        if firstMicroseconds == nil { firstMicroseconds = event.timeMicroseconds }
        lastMicroseconds = event.timeMicroseconds
    }

    mutating func add(_ segmentInfos: [SegmentInfo]) {
        segments += segmentInfos.count
        bytes += segmentInfos.reduce(0) { $0 + $1.bytes }
    }

    /// The row `stats` prints; `by_kind` lists every kind, zeros included, in a fixed order.
    var cells: [Cell] {
        [
            .int(Int64(events)),
            .object(EventKind.allCases.map { ($0.rawValue, .int(Int64(byKind[$0] ?? 0))) }),
            .int(Int64(segments)), .int(Int64(bytes)), .decimal(bytesPerEvent),
            .optionalTime(firstMicroseconds), .optionalTime(lastMicroseconds),
        ]
    }

    static let columns = ["events", "by_kind", "segments", "bytes", "bytes_per_event", "first", "last"]
}
