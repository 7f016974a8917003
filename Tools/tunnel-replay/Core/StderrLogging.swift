import Logging

/// A swift-log handler printing warnings (a skipped snapshot) as `tunnel-replay:` lines on stderr.
struct StderrLogging: LogHandler {
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let details = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        Diagnostics.warn(details.isEmpty ? "\(event.message)" : "\(event.message) (\(details))")
    }

    static func logger(label: String) -> Logger {
        Logger(label: label, factory: { _ in StderrLogging() })
    }
}
