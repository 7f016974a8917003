import EventLog
import FileStore
import Logging

/// The last step of `generate`: the log's writer opened once more until its background work is
/// done (the dense rewrite and tally frame of every sealed segment), so the generated log is final
/// when the command exits. Closing a writer stops that work after the segment in progress, which
/// on a loaded machine left the last sealed segments in the stream form, without a tally.
enum LogSettling {
    static func settle(dataDirectory: String) async throws {
        var configuration = EventLogConfiguration(directory: dataDirectory + "/log")
        configuration.fsync = .never
        configuration.recordTally = .registryEvents
        var logger = Logger(label: "tunnel-replay.generate")
        logger.logLevel = .warning
        // No record is appended, so the clock is never read for a commit's time.
        let writer = try await EventLogWriter.open(configuration, logger: logger, clock: { 0 })
        await writer.waitForSealing()
        try await writer.close()
    }
}
