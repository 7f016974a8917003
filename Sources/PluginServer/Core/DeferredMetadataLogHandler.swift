import Logging

/// The log handler under the HTTP framework's logger: Hummingbird tags each request's logger
/// with `hb.request.id`, and swift-log's `StreamLogHandler` renders its whole metadata text
/// on every such change, once per request, though the framework logs only problems. This
/// handler keeps metadata changes as a dictionary write and merges them into a line only when
/// one is logged.
struct DeferredMetadataLogHandler: LogHandler {
    private var inner: any LogHandler
    /// Metadata set through this handler, laid over the inner handler's own.
    private var added: Logger.Metadata = [:]

    init(_ inner: any LogHandler) {
        self.inner = inner
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata.merging(added) { _, new in new } }
        set { added = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { added[key] ?? inner[metadataKey: key] }
        set { added[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if !added.isEmpty {
            event.metadata = added.merging(event.metadata ?? [:]) { _, new in new }
        }
        inner.log(event: event)
    }
}

extension Logger {
    /// This logger with its handler wrapped in `DeferredMetadataLogHandler`.
    func deferringMetadata() -> Logger {
        var logger = self
        logger.handler = DeferredMetadataLogHandler(handler)
        return logger
    }
}
