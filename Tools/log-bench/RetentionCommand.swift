import ArgumentParser
import EventLog
import FileStore
import Foundation
import Logging

/// `log-bench retention`: one retention pass over an existing data directory (e.g. one made by
/// `tunnel-replay generate --scenario bench`), "now" being its last record, keeping the newest
/// `--keep-fraction` of its span; prints the bytes on disk before and after.
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Run one retention pass on a data directory and print its bytes on disk before and after.")

    @Option(name: .customLong("data-dir"), help: "The data directory (DIR/log, DIR/snapshots); it is modified.")
    var dataDir: String
    @Option(help: "The part of the log's time span to keep (0 < f < 1).") var keepFraction: Double = 0.5

    func run() async throws {
        guard keepFraction > 0, keepFraction < 1 else {
            throw ValidationError("--keep-fraction \(keepFraction) must be between 0 and 1 (exclusive)")
        }
        let logDirectory = dataDir + "/log"
        let snapshots = SnapshotStore(directory: dataDir + "/snapshots")
        let before = try Footprint.measure(logDirectory: logDirectory, snapshots: snapshots)
        guard let first = before.firstMicroseconds, let last = before.lastMicroseconds, last > first else {
            throw ValidationError("\(logDirectory) holds no time span to cut; generate a history first")
        }
        let retention = max(1, Int64(Double(last - first) * keepFraction))
        let logger = Logger(label: "log-bench") { _ in StreamLogHandler.standardError(label: "log-bench") }
        var configuration = EventLogConfiguration(directory: logDirectory)
        configuration.recordTally = .registryEvents
        let store = try await EventLogStore.open(configuration, logger: logger, clock: { last })
        let report = try await LogRetention(
            retentionMicroseconds: retention, snapshots: snapshots, log: store, clock: { last }, logger: logger
        ).run(keepNewest: 3)
        try await store.close()
        let after = try Footprint.measure(logDirectory: logDirectory, snapshots: snapshots)
        print("span: \(Double(last - first) / 1e6) s; retention: \(Double(retention) / 1e6) s")
        print("before: \(before.line)")
        print("after:  \(after.line)")
        print(
            "removed: \(report.log.removedSegments.count) segments, \(report.log.removedBytes) log bytes, "
                + "\(report.snapshotsDeleted.count) snapshots; anchor snapshot \(report.plan.anchor?.sequence ?? 0)")
    }
}

/// Bytes of a data directory's log and snapshots, and the log's span.
struct Footprint {
    var segments = 0
    var logBytes = 0
    var snapshots = 0
    var snapshotBytes = 0
    var firstSequence: UInt64 = 0
    var lastSequence: UInt64 = 0
    var firstMicroseconds: Int64?
    var lastMicroseconds: Int64?

    static func measure(logDirectory: String, snapshots: SnapshotStore) throws -> Footprint {
        var footprint = Footprint()
        let segments = try EventLogReader(directory: logDirectory).segments()
        footprint.segments = segments.count
        footprint.logBytes = segments.reduce(0) { $0 + $1.bytes }
        footprint.firstSequence = segments.first?.firstSequence ?? 0
        footprint.lastSequence = segments.last?.lastSequence ?? 0
        footprint.firstMicroseconds = segments.first?.firstTimestampMicroseconds
        footprint.lastMicroseconds = segments.last(where: { $0.lastSequence > 0 })?.lastTimestampMicroseconds
        for sequence in try snapshots.sequences() {
            footprint.snapshots += 1
            footprint.snapshotBytes += try snapshots.info(sequence: sequence).fileBytes
        }
        return footprint
    }

    var line: String {
        "\(logBytes + snapshotBytes) bytes (log \(logBytes) in \(segments) segments, sequences "
            + "\(firstSequence)...\(lastSequence); snapshots \(snapshotBytes) in \(snapshots))"
    }
}
