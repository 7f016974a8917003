import EventLog
import FileStore
import Logging
import Registry
import Synchronization

/// A clock the generator sets before each commit, so commit timestamps follow the script.
final class ScriptedClock: Sendable {
    private let microseconds = Atomic<Int64>(0)

    func set(_ value: Int64) { microseconds.store(value, ordering: .relaxed) }
    func now() -> Int64 { microseconds.load(ordering: .relaxed) }
}

/// Writes events into a data directory through the real `EventLogWriter` and `EventCodec`.
struct LogFiller {
    let dataDirectory: String
    var segmentBytesMax: Int = 64 << 20
    private let clock = ScriptedClock()
    private var writer: EventLogWriter?
    /// The projection of everything written so far (what a snapshot stores).
    private(set) var projection = Projection()

    init(dataDirectory: String, segmentBytesMax: Int) {
        self.dataDirectory = dataDirectory
        self.segmentBytesMax = segmentBytesMax
    }

    mutating func open() async throws {
        var configuration = EventLogConfiguration(directory: dataDirectory + "/log")
        configuration.fsync = .never
        configuration.segmentBytesMax = segmentBytesMax
        configuration.recordTally = .registryEvents
        var logger = Logger(label: "tunnel-replay.generate")
        logger.logLevel = .warning
        let clock = self.clock
        writer = try await EventLogWriter.open(configuration, logger: logger, clock: { clock.now() })
    }

    /// Appends `events` as one commit at their (shared) time; returns them with their sequences.
    @discardableResult
    mutating func commit(_ events: [RegistryEvent]) async throws -> [RegistryEvent] {
        guard let writer, let first = events.first else { return [] }
        clock.set(first.timeMicroseconds)
        let position = try await writer.append(contentsOf: events.map(EventCodec.encode))
        var logged: [RegistryEvent] = []
        logged.reserveCapacity(events.count)
        for (offset, event) in events.enumerated() {
            var stamped = event
            stamped.sequence = position.sequence + UInt64(offset)
            stamped.timeMicroseconds = position.timestampMicroseconds
            projection.apply(stamped)
            logged.append(stamped)
        }
        return logged
    }

    mutating func close() async throws {
        try await writer?.close()
        writer = nil
    }
}
