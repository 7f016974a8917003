import EventLog
import FileStore
import Foundation
import Logging
import Registry
import Synchronization
import Testing

@testable import tunnel_replay

/// `stats` fills by_kind from the dense segments' tally frames and reads only the segments
/// without one (the newest, sealed ones not rewritten yet, those of builds before the tally).
@Suite struct StatsTallyTests {
    /// Commit times one millisecond apart.
    final class StepClock: Sendable {
        private let now = Atomic<Int64>(1_780_000_000_000_000)
        func tick() -> Int64 { now.add(1000, ordering: .relaxed).newValue }
    }

    /// Appends the fixture history `repeats` times (one commit per record), then `extra`, with
    /// 4 KiB segments; waits for the dense rewrites and closes.
    static func write(
        _ log: String, repeats: Int, tally: RecordTally?, rewrite: Bool, clock: StepClock, extra: [[UInt8]] = []
    ) async throws {
        var configuration = EventLogConfiguration(directory: log)
        configuration.fsync = .never
        configuration.segmentBytesMax = 4096
        configuration.sealedBlockBytes = 4096
        configuration.recordTally = tally
        configuration.rewriteSealedSegments = rewrite
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let writer = try await EventLogWriter.open(configuration, logger: logger, clock: { clock.tick() })
        for payload in extra { _ = try await writer.append(payload) }
        for _ in 0..<repeats {
            for event in [RegistryEvent].fixtureHistory() { _ = try await writer.append(EventCodec.encode(event)) }
        }
        await writer.waitForSealing()
        try await writer.close()
    }

    /// The fixture history's counts by kind, `times` over.
    static func historyCounts(times: Int) -> [String: Int] {
        var counts: [String: Int] = [:]
        for kind in EventKind.allCases {
            counts[kind.rawValue] = times * [RegistryEvent].fixtureHistory().filter { $0.kind == kind }.count
        }
        return counts
    }

    /// `stats --format json`'s row, checked to equal `stats --by-kind`'s.
    static func stats(_ data: String) throws -> [String: Any] {
        let output = try ToolRunner.run(["stats", "--format", "json", "--data-dir", data])
        #expect(output.status == 0, "\(output.stderr)")
        let flagged = try ToolRunner.run(["stats", "--by-kind", "--format", "json", "--data-dir", data])
        #expect(flagged.stdout == output.stdout)
        return try #require(output.jsonLines.first)
    }

    // Proves a log made by `generate` (the real Registry) has tallied dense segments and an
    // unsealed newest one, and stats' by_kind equals the history's real counts.
    @Test func generatedLogCountsByKind() throws {
        let root = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data").path
        let generated = try ToolRunner.run(["generate", "--scenario", "fixture", "--out", data])
        #expect(generated.status == 0, "\(generated.stderr)")
        let segments = try EventLogReader(directory: data + "/log").segments()
        #expect(segments.filter(\.isSealed).count >= 2)
        #expect(segments.filter(\.isSealed).allSatisfy { $0.tally?.scheme == EventCodec.tallyScheme })
        #expect(segments.last?.isSealed == false)
        let row = try Self.stats(data)
        #expect(row["by_kind"] as? [String: Int] == Self.historyCounts(times: 1))
        #expect(row["events"] as? Int == [RegistryEvent].fixtureHistory().count)
    }

    // Proves by_kind on a log mixing version-1 dense segments, tallied ones, sealed ones still in
    // the stream form and an unsealed newest one equals what was written, and that tallied
    // segments are counted from their tally (a tally moved between kinds shows in by_kind).
    @Test func mixedLogCountsByKind() async throws {
        let root = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data").path
        let log = data + "/log"
        let clock = StepClock()
        // Tallied first: a writer with a tally would add tallies to version-1 segments before it;
        // the last one, not rewriting, leaves the version-1 ones as they are.
        try await Self.write(log, repeats: 2, tally: .registryEvents, rewrite: true, clock: clock)
        try await Self.write(log, repeats: 2, tally: nil, rewrite: true, clock: clock)
        try await Self.write(log, repeats: 2, tally: .registryEvents, rewrite: false, clock: clock)

        let segments = try EventLogReader(directory: log).segments()
        let forms = try segments.filter { $0.isSealed && $0.tally == nil }.map {
            try Data(contentsOf: URL(fileURLWithPath: log + "/" + $0.fileName))[10]
        }
        #expect(Set(forms) == [1, 2], "sealed untallied segments in both forms")
        let tallied = try #require(segments.first { $0.tally != nil })
        #expect(segments.last?.isSealed == false)
        let row = try Self.stats(data)
        #expect(row["by_kind"] as? [String: Int] == Self.historyCounts(times: 6))
        #expect(row["events"] as? Int == 6 * [RegistryEvent].fixtureHistory().count)

        // Move one renew to register in a tally, checksums rewritten: the sum still agrees.
        let renews = try #require(tallied.tally?.counts[2])
        #expect(renews > 0)
        try Self.moveCount(in: log + "/" + tallied.fileName, from: 2, to: 1)
        var expected = Self.historyCounts(times: 6)
        expected["renew"]! -= 1
        expected["register"]! += 1
        #expect(try Self.stats(data)["by_kind"] as? [String: Int] == expected)
    }

    // Proves a tallied segment counting a record of an unknown kind (slot 15) makes stats exit 2
    // naming the segment, as reading that record would.
    @Test func unknownKindInTallyIsAnError() async throws {
        let root = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data").path
        let unknown: [UInt8] = [1, 9, 0, 0, 0, 0, 0, 0, 0]
        try await Self.write(
            data + "/log", repeats: 2, tally: .registryEvents, rewrite: true, clock: StepClock(), extra: [unknown])
        let first = try #require(try EventLogReader(directory: data + "/log").segments().first)
        #expect(first.tally?.counts[15] == 1)
        let output = try ToolRunner.run(["stats", "--format", "json", "--data-dir", data])
        #expect(output.status == 2)
        #expect(
            output.stderr.contains(first.fileName) && output.stderr.contains("unknown version or kind"),
            "\(output.stderr)")
    }

    /// Moves one count between slots of a version-2 segment's tally and rewrites its checksums.
    static func moveCount(in path: String, from: Int, to: Int) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let frame = bytes.count - 56 - 176
        let counts = frame + 40 + 8
        func add(_ delta: Int64, slot: Int) {
            let at = counts + slot * 8
            var value = bytes[at..<(at + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            value = UInt64(Int64(value) + delta)
            for index in 0..<8 { bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
        }
        add(-1, slot: from)
        add(1, slot: to)
        func store(_ value: UInt32, at offset: Int) {
            for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
        }
        store(CRC32C.checksum(Array(bytes[(frame + 40)..<(frame + 176)])), at: frame + 32)
        store(CRC32C.checksum(Array(bytes[frame..<(frame + 36)])), at: frame + 36)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
