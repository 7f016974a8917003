import EventLog
import FileStore
import Foundation
import Registry
import Testing

@testable import tunnel_replay

/// `verify` compares each scheme-1 tally frame with the kinds of its segment's records: a tally
/// whose counts moved between kinds (checksums and sum intact) is a problem row of its own.
@Suite struct VerifyTallyTests {
    /// A generated log of several tallied segments and snapshots, made once and copied per test.
    static let generated: String = {
        let directory = (try? ToolRunner.temporaryDirectory())?.appendingPathComponent("tally").path ?? "/nonexistent"
        _ = try? ToolRunner.run([
            "generate", "--scenario", "bench", "--events", "20000", "--connectors", "200", "--snapshot-every",
            "6000", "--segment-bytes", "32768", "--out", directory,
        ])
        return directory
    }()

    /// A copy of `generated` to edit (in `root`, which the test removes), and its tallied segments.
    static func copy() throws -> (root: URL, data: String, tallied: [SegmentInfo]) {
        let root = try ToolRunner.temporaryDirectory()
        let data = root.appendingPathComponent("data").path
        try FileManager.default.copyItem(atPath: generated, toPath: data)
        let segments = try EventLogReader(directory: data + "/log").segments()
        let tallied = segments.filter { $0.tally?.scheme == EventCodec.tallyScheme }
        try #require(tallied.count >= 3, "\(segments)")
        return (root, data, tallied)
    }

    static func verify(_ data: String, threads: Int) throws -> ToolRunner.Output {
        try ToolRunner.run(
            ["verify", "--format", "json", "--data-dir", data], environment: ["TUNNEL_REPLAY_THREADS": "\(threads)"])
    }

    /// Checks `row` is the tally row of `segment` after one renew was moved to register.
    static func expectTallyRow(_ row: [String: Any], of segment: SegmentInfo) {
        #expect(row["file"] as? String == "log/" + segment.fileName, "\(row)")
        #expect(row["offset"] as? Int == segment.bytes - 56 - 176, "\(row)")
        #expect(row["sequence"] as? Int == Int(segment.lastSequence), "\(row)")
        let renews = Int(segment.tally!.counts[2])
        let registers = Int(segment.tally!.counts[1])
        let text = row["problem"] as? String ?? ""
        #expect(
            text.contains("tally counts \(registers + 1) register, the records hold \(registers)")
                && text.contains("tally counts \(renews - 1) renew, the records hold \(renews)")
                && text.contains("the records are intact")
                && text.contains("run repair to rebuild the tally frame from the records"), "\(text)")
    }

    // Proves a healthy tallied log verifies: exit 0, no rows, on one thread and on two.
    @Test func healthyTalliedLogVerifies() throws {
        let (root, data, _) = try Self.copy()
        defer { try? FileManager.default.removeItem(at: root) }
        for threads in [1, 2] {
            let output = try Self.verify(data, threads: threads)
            #expect(output.status == 0, "\(threads) threads: \(output.stdout) \(output.stderr)")
            #expect(output.stdout.isEmpty, "\(output.stdout)")
            #expect(output.stderr.contains("20000 records") && output.stderr.contains("healthy"), "\(output.stderr)")
        }
    }

    // Proves a tally that moved one renew to register, with valid checksums and the right sum, is
    // the only row of an otherwise healthy log (the parallel check), naming file, offset,
    // sequence and both kinds with both counts.
    @Test func movedCountIsReportedOnTheParallelPath() throws {
        let (root, data, tallied) = try Self.copy()
        defer { try? FileManager.default.removeItem(at: root) }
        let segment = tallied[1]
        try StatsTallyTests.moveCount(in: data + "/log/" + segment.fileName, from: 2, to: 1)
        for threads in [1, 2] {
            let output = try Self.verify(data, threads: threads)
            #expect(output.status == 1, "\(threads) threads: \(output.stdout) \(output.stderr)")
            #expect(output.jsonLines.count == 1, "\(output.stdout)")
            if let row = output.jsonLines.first { Self.expectTallyRow(row, of: segment) }
        }
    }

    // Proves the record-by-record check (run when the log is damaged) reports the same row for a
    // moved count, besides the damage of a later segment, and no row for other segments' tallies.
    @Test func movedCountIsReportedOnTheFullPath() throws {
        let (root, data, tallied) = try Self.copy()
        defer { try? FileManager.default.removeItem(at: root) }
        let segment = tallied[0]
        let damaged = tallied[tallied.count - 1]
        try StatsTallyTests.moveCount(in: data + "/log/" + segment.fileName, from: 2, to: 1)
        // A byte of the later segment's first dense block (after the 64-byte header and the
        // 40-byte frame header) flipped: its payload checksum fails.
        let path = data + "/log/" + damaged.fileName
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[64 + 40 + 20] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let output = try Self.verify(data, threads: 2)
        #expect(output.status == 1, "\(output.stdout) \(output.stderr)")
        let rows = output.jsonLines
        #expect(rows.contains { $0["file"] as? String == "log/" + damaged.fileName }, "\(output.stdout)")
        let tallyRows = rows.filter { ($0["problem"] as? String ?? "").contains("tally counts") }
        #expect(tallyRows.count == 1, "\(output.stdout)")
        if let row = tallyRows.first { Self.expectTallyRow(row, of: segment) }
    }

    // Proves stretches that start inside a segment, cross segment boundaries and fold records
    // before their first counted one add up, once merged, to each segment's records by kind.
    @Test func stretchesCountEachRecordOnceInItsSegment() throws {
        let events = StretchFoldTests.events(count: 3_000)
        let bounds: [(first: UInt64, last: UInt64)] = [(1, 1000), (1001, 2200), (2201, 3000)]
        let segments = bounds.enumerated().map { index, bound in
            var counts = [UInt64](repeating: 0, count: RecordTally.slotCount)
            for event in events where (bound.first...bound.last).contains(event.sequence) {
                EventCodec.encode(event).withUnsafeBytes { counts[EventCodec.tallySlot($0)] += 1 }
            }
            return SegmentInfo(
                fileName: "segment-\(index).seg", bytes: 10_000, firstSequence: bound.first, lastSequence: bound.last,
                firstTimestampMicroseconds: 0, lastTimestampMicroseconds: 0, isSealed: true,
                tally: SegmentTally(scheme: EventCodec.tallyScheme, counts: counts))
        }
        var check = TallyCheck(segments: segments)
        var totals = check.emptyTotals()
        // Two stretches: 1...1500, then one folding from 1 but counting from 1501.
        for (firstCounted, last) in [(UInt64(1), UInt64(1500)), (1501, 3000)] {
            var stretch = try StretchFoldTests.stretch(firstCounted: firstCounted, kinds: check.counter())
            for event in events where event.sequence <= last {
                EventCodec.encode(event).withUnsafeBytes {
                    stretch.take(sequence: event.sequence, time: event.timeMicroseconds, payload: $0)
                }
            }
            stretch.flush()
            check.merge(stretch.outcome.kinds, into: &totals)
        }
        for (index, segment) in segments.enumerated() {
            let slots = index * RecordTally.slotCount..<(index + 1) * RecordTally.slotCount
            #expect(totals[slots].map(UInt64.init) == segment.tally?.counts, "segment \(index)")
        }
        #expect(check.problems(totals).isEmpty)
        // The same counts against a tally with one renew moved to register: that segment's row.
        var moved = segments
        moved[1].tally!.counts[2] -= 1
        moved[1].tally!.counts[1] += 1
        check = TallyCheck(segments: moved)
        let problems = check.problems(totals)
        #expect(problems.map(\.file) == ["log/segment-1.seg"], "\(problems)")
        #expect(problems.first?.sequence == 2200 && problems.first?.offset == 10_000 - 232)
    }
}
