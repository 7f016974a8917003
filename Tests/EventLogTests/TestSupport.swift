import EventLog
import Foundation
import Logging
import Synchronization

/// A fresh temporary directory per test, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init(_ name: String = #function) {
        let base = NSTemporaryDirectory() + "eventlog-tests-" + UUID().uuidString.prefix(8)
        path = base + "-" + name.filter { $0.isLetter || $0.isNumber }
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A clock the test moves by hand (microseconds).
final class ManualClock: Sendable {
    private let now: Mutex<Int64>

    init(_ start: Int64 = 1_700_000_000_000_000) {
        now = Mutex(start)
    }

    func advance(microseconds: Int64) {
        now.withLock { $0 += microseconds }
    }

    func set(_ value: Int64) {
        now.withLock { $0 = value }
    }

    var function: @Sendable () -> Int64 {
        { [self] in now.withLock { $0 } }
    }
}

/// Log messages captured for assertions.
final class CapturedLogs: Sendable {
    private let messages = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "test") { _ in CaptureHandler(sink: self) }
    }

    func append(_ message: String) {
        messages.withLock { $0.append(message) }
    }

    var all: [String] { messages.withLock { $0 } }
}

struct CaptureHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.append("\(event.level): \(event.message)")
    }
}

extension EventLogConfiguration {
    /// Small limits so tests rotate after a few records.
    static func small(_ directory: String, segmentBytes: Int = 4096) -> EventLogConfiguration {
        var configuration = EventLogConfiguration(directory: directory)
        configuration.segmentBytesMax = segmentBytes
        configuration.recordBytesMax = 1024
        configuration.commitBytesMax = 8192
        configuration.sealedBlockBytes = 4096
        configuration.sealedCompressionLevel = 9
        return configuration
    }
}

/// A record payload that names its index, with some repetition for zstd.
func payload(_ index: Int) -> [UInt8] {
    Array("record-\(index)-connector-\(index % 17)-tunnel-\(index % 5)".utf8)
}

/// Reads every whole record from `sequence` on.
func readAll(_ directory: String, from sequence: UInt64 = 1) throws -> [LogRecord] {
    var cursor = try EventLogReader(directory: directory).cursor(fromSequence: sequence)
    var records: [LogRecord] = []
    while let record = try cursor.next() { records.append(record) }
    return records
}

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// File surgery for damage tests.
enum Files {
    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func flipByte(_ path: String, at offset: Int) throws {
        var content = try bytes(path)
        content[offset] ^= 0x5A
        try write(content, to: path)
    }

    static func truncate(_ path: String, to size: Int) throws {
        try write(Array(try bytes(path).prefix(size)), to: path)
    }

    static func names(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    /// A copy of `directory` in a new temporary directory.
    static func copy(_ directory: String, name: String = #function) throws -> TemporaryDirectory {
        let copy = TemporaryDirectory(name)
        for entry in try names(directory) {
            try FileManager.default.copyItem(atPath: directory + "/" + entry, toPath: copy.path + "/" + entry)
        }
        return copy
    }
}

/// Writes `count` records one commit each and closes; returns their positions.
func writeLog(
    _ configuration: EventLogConfiguration, count: Int, clock: ManualClock = ManualClock(), start: Int = 0
) async throws -> [LogPosition] {
    let writer = try await EventLogWriter.open(configuration, logger: quietLogger, clock: clock.function)
    var positions: [LogPosition] = []
    for index in start..<(start + count) {
        clock.advance(microseconds: 7)
        positions.append(try await writer.append(payload(index)))
    }
    await writer.waitForSealing()
    try await writer.close()
    return positions
}
