import PluginServer
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `--log-format json`: one JSON object per line on stderr, with `time` (RFC 3339 UTC,
/// microseconds), `level`, `label`, `message`, and the logger's metadata as further fields
/// (a field never replaces one of those four). Nested metadata becomes nested JSON.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.line(
            time: Date(),
            level: event.level,
            label: label,
            message: "\(event.message)",
            metadata: merged
        )
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// One log line, newline included.
    static func line(
        time: Date,
        level: Logger.Level,
        label: String,
        message: String,
        metadata: Logger.Metadata
    ) -> String {
        var out = "{\"time\":" + quote(timestamp(time)) + ",\"level\":" + quote(level.rawValue)
        out += ",\"label\":" + quote(label) + ",\"message\":" + quote(message)
        let reserved: Set<String> = ["time", "level", "label", "message"]
        for key in metadata.keys.sorted() where !reserved.contains(key) {
            out += "," + quote(key) + ":" + json(metadata[key]!)
        }
        return out + "}\n"
    }

    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return quote(text)
        case .stringConvertible(let convertible): return quote(convertible.description)
        case .array(let values): return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let fields):
            return "{" + fields.keys.sorted().map { quote($0) + ":" + json(fields[$0]!) }.joined(separator: ",") + "}"
        }
    }

    /// `2026-11-30T06:58:29.123456Z`.
    static func timestamp(_ date: Date) -> String {
        let microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
        var seconds = time_t(microseconds / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let fraction = String(microseconds % 1_000_000)
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "."
            + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }

    /// A JSON string literal for `text` (the same escaping as the HTTP front's replies).
    static func quote(_ text: String) -> String {
        WireJSON.quote(text)
    }
}

/// How the log is written: `text` (swift-log's stream format) or `json` (one object per line).
enum LogFormat: String, CaseIterable, Sendable {
    case text
    case json

    /// Bootstraps swift-log with this format at `level`, writing to stderr.
    func bootstrap(level: Logger.Level) {
        switch self {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        }
    }
}
