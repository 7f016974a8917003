import Logging
import Synchronization
import Testing

@testable import PluginServer

/// The framework logger's handler keeps per-request metadata and still puts it on every line.
@Suite struct DeferredMetadataLogHandlerTests {
    /// Records what reaches the wrapped handler.
    final class Sink: Sendable {
        let events = Mutex<[Logger.Metadata]>([])
    }

    struct Recording: LogHandler {
        let sink: Sink
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            sink.events.withLock { $0.append(event.metadata ?? [:]) }
        }
    }

    @Test func metadataSetPerRequestReachesTheLine() {
        // Proves metadata set on the wrapped logger (Hummingbird's request id) is on the logged
        // line, next to the line's own metadata, which wins on a clash.
        let sink = Sink()
        var logger = Logger(label: "test") { _ in Recording(sink: sink) }.deferringMetadata()
        logger[metadataKey: "hb.request.id"] = "42"
        logger[metadataKey: "call"] = "get"
        logger.notice("served", metadata: ["call": "renew"])
        let lines = sink.events.withLock { $0 }
        #expect(lines.count == 1)
        #expect(lines.first?["hb.request.id"] == "42")
        #expect(lines.first?["call"] == "renew")
        #expect(logger[metadataKey: "hb.request.id"] == "42")
    }
}
