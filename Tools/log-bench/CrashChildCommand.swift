import ArgumentParser
import EventLog
import Foundation
import Logging
import Synchronization

/// Hidden mode for the SIGKILL test: appends in a loop from several tasks and prints
/// `ACK <sequence>` (flushed) after each append returns, until killed or `--records` are done.
struct CrashChildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash-child", abstract: "Append and print each acknowledged sequence (test helper).",
        shouldDisplay: false)

    @Option(help: "Log directory.") var dir: String
    @Option(help: "Concurrent appenders.") var appenders: Int = 4
    @Option(help: "Records to append per appender before exiting by itself.") var records: Int = 100_000
    @Option(help: "Segment size in bytes (small, so the child rotates while it runs).") var segmentBytes: Int = 16_384

    func run() async throws {
        var configuration = EventLogConfiguration(directory: dir)
        configuration.segmentBytesMax = segmentBytes
        configuration.sealedCompressionLevel = 3
        let logger = Logger(label: "crash-child") { _ in StreamLogHandler.standardError(label: "crash-child") }
        let writer = try await EventLogWriter.open(configuration, logger: logger) {
            Int64(Date().timeIntervalSince1970 * 1_000_000)
        }
        let output = OutputLock()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for appender in 0..<appenders {
                group.addTask {
                    for index in 0..<records {
                        let position = try await writer.append(Array("child-\(appender)-\(index)".utf8))
                        output.print("ACK \(position.sequence)")
                    }
                }
            }
            try await group.waitForAll()
        }
        try await writer.close()
    }
}

/// Serializes lines to stdout and flushes each, so the parent sees every acknowledgement.
final class OutputLock: Sendable {
    private let lock = Mutex<Void>(())

    func print(_ line: String) {
        lock.withLock { _ in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }
}
