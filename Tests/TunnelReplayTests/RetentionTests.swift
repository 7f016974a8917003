import EventLog
import FileStore
import Foundation
import Logging
import Testing

@testable import tunnel_replay

/// The read commands on a log whose start retention removed: `state --at` before the retained
/// span exits 2 naming the retention, inside it answers; `stats` shows what remains; `verify` passes.
@Suite struct RetentionTests {
    // Proves state before the retained span exits 2 with "history before T was removed by
    // retention (--retention D)", state inside it answers, stats starts at the first remaining
    // segment, and verify passes on the retained log.
    @Test func readCommandsOnRetainedLog() async throws {
        let root = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data").path
        let generated = try ToolRunner.run([
            "generate", "--scenario", "bench", "--out", data, "--events", "40000", "--connectors", "1000",
            "--snapshot-every", "4000", "--segment-bytes", "16384",
        ])
        #expect(generated.status == 0, "\(generated.stderr)")

        let reader = try EventLogReader(directory: data + "/log")
        let before = try reader.segments()
        let first = try #require(before.first?.firstTimestampMicroseconds)
        let last = try #require(before.last(where: { $0.lastSequence > 0 })?.lastTimestampMicroseconds)
        let retention = (last - first) / 2
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let store = try await EventLogStore.open(
            EventLogConfiguration(directory: data + "/log"), logger: logger, clock: { last })
        let report = try await LogRetention(
            retentionMicroseconds: retention, snapshots: SnapshotStore(directory: data + "/snapshots"), log: store,
            clock: { last }, logger: logger
        ).run(keepNewest: 3)
        try await store.close()
        #expect(!report.log.removedSegments.isEmpty)
        let anchor = try #require(report.plan.anchor)
        let after = try reader.segments()
        let retainedFirst = try #require(after.first)
        #expect(retainedFirst.firstSequence > 1)

        let early = Timestamp.format(first + 1_000_000)
        let refused = try ToolRunner.run(["state", "--data-dir", data, "--at", early])
        #expect(refused.status == 2)
        let recorded = try #require(SnapshotStore(directory: data + "/snapshots").recordedRetention())
        #expect(
            refused.stderr.contains("history before \(early) was removed by retention (--retention \(recorded))"),
            "\(refused.stderr)")

        let inside = Timestamp.format(anchor.lastTimeMicroseconds + 1_000_000)
        let answered = try ToolRunner.run(["state", "--data-dir", data, "--at", inside, "--format", "json"])
        #expect(answered.status == 0, "\(answered.stderr)")
        #expect(!answered.jsonLines.isEmpty)

        let stats = try ToolRunner.run(["stats", "--data-dir", data, "--format", "json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let row = try #require(stats.jsonLines.first)
        #expect(row["first"] as? String == Timestamp.format(retainedFirst.firstTimestampMicroseconds))
        #expect(row["segments"] as? Int == after.count)

        let verify = try ToolRunner.run(["verify", "--data-dir", data])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }
}
