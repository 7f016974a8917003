import ArgumentParser
import EventLog
import Foundation
import Logging

/// The benchmark: append with 1 and with 64 appenders (fsync always), seal and rewrite densely,
/// then replay everything; readable lines, then one JSON line.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the reference workload in a temporary directory (the default).")

    @Option(help: "Events appended by the single appender.") var singleEvents: Int = 10_000
    @Option(help: "Events appended by the 64 concurrent appenders.") var concurrentEvents: Int = 400_000
    @Option(help: "Concurrent appenders of the second phase.") var appenders: Int = 64
    @Option(help: "zstd level of the dense rewrite.") var sealedLevel: Int = 19
    @Option(help: "Directory to write in (default: a new temporary one, removed afterwards).") var dir: String?

    func run() async throws {
        let directory = dir ?? (NSTemporaryDirectory() + "log-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: directory) } }
        var configuration = EventLogConfiguration(directory: directory)
        configuration.sealedCompressionLevel = sealedLevel
        let logger = Logger(label: "log-bench") { _ in StreamLogHandler.standardError(label: "log-bench") }
        let writer = try await EventLogWriter.open(configuration, logger: logger) {
            Int64(Date().timeIntervalSince1970 * 1_000_000)
        }
        var workload = ReferenceWorkload()
        let single = workload.events(singleEvents)
        let concurrent = (0..<concurrentEvents).map { _ in workload.next() }
        let plainBytes = (single + concurrent).reduce(0) { $0 + $1.count }
        let total = single.count + concurrent.count
        print("workload: \(total) events, \(ReferenceWorkload.connectorCount) connectors, \(ReferenceWorkload.tunnelCount) tunnels, \(ReferenceWorkload.nodeCount) nodes, \(String(format: "%.1f", Double(plainBytes) / Double(total))) plain bytes/event")

        let singleRate = try await measureSingle(writer, single)
        print("append, 1 appender, fsync always: \(Int(singleRate)) events/s")
        let concurrentRate = try await measureConcurrent(writer, concurrent)
        print("append, \(appenders) appenders, fsync always: \(Int(concurrentRate)) events/s")

        let streamBytes = try segmentBytes(directory)
        print("stream form (written live): \(String(format: "%.2f", Double(streamBytes) / Double(total))) bytes/event")
        let sealStart = ContinuousClock.now
        try await writer.rotate()
        await writer.waitForSealing()
        try await writer.close()
        let sealSeconds = seconds(ContinuousClock.now - sealStart)
        let denseBytes = try segmentBytes(directory)
        let bytesPerEvent = Double(denseBytes) / Double(total)
        print("dense form (after sealing, level \(sealedLevel), \(String(format: "%.1f", sealSeconds)) s): \(String(format: "%.2f", bytesPerEvent)) bytes/event, \(denseBytes) bytes")

        let (replayRate, replayed) = try measureReplay(directory)
        guard replayed == total else { throw ValidationError("replayed \(replayed) events, appended \(total)") }
        print("replay (read + checksum + decompress): \(Int(replayRate)) events/s")
        let json =
            "{\"append_events_per_s_1\": \(Int(singleRate)), \"append_events_per_s_64\": \(Int(concurrentRate)), "
            + "\"bytes_per_event\": \(String(format: "%.3f", bytesPerEvent)), \"replay_events_per_s\": \(Int(replayRate))}"
        print(json)
    }

    private func measureSingle(_ writer: EventLogWriter, _ events: [[UInt8]]) async throws -> Double {
        let start = ContinuousClock.now
        for event in events { _ = try await writer.append(event) }
        return Double(events.count) / seconds(ContinuousClock.now - start)
    }

    private func measureConcurrent(_ writer: EventLogWriter, _ events: [[UInt8]]) async throws -> Double {
        let appenders = self.appenders
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for appender in 0..<appenders {
                group.addTask {
                    var index = appender
                    while index < events.count {
                        _ = try await writer.append(events[index])
                        index += appenders
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(events.count) / seconds(ContinuousClock.now - start)
    }

    /// Reads the whole log three times; the best pass (the first also warms the page cache).
    private func measureReplay(_ directory: String) throws -> (Double, Int) {
        var best = 0.0
        var count = 0
        for _ in 0..<3 {
            let start = ContinuousClock.now
            var cursor = try EventLogReader(directory: directory).cursor(fromSequence: 1)
            count = 0
            var bytes = 0
            while let record = try cursor.next() {
                count += 1
                bytes &+= record.payload.count
            }
            best = max(best, Double(count) / seconds(ContinuousClock.now - start))
        }
        return (best, count)
    }

    private func segmentBytes(_ directory: String) throws -> Int {
        try EventLogReader(directory: directory).segments().reduce(0) { $0 + $1.bytes }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
