import EventLog
import Foundation
import Testing

/// Repair of a tally frame whose checksums and sum check but whose counts moved between slots
/// (docs/FORMAT.md "Repair"): with the log's record tally given, the segment's tally is rebuilt
/// from its records like a damaged one; without it, or under another scheme, it is no damage.
@Suite struct TallyMiscountRepairTests {
    typealias Written = TallyRepairTests.Written

    /// The counts of the tally frame of `path` (a sealed version-2 segment), slot by slot.
    static func counts(_ path: String) throws -> [UInt64] {
        let bytes = try Files.bytes(path)
        let payload = TallyTests.tallyOffset(bytes.count) + 40
        return (0..<16).map { slot in
            (0..<8).reduce(UInt64(0)) { value, byte in
                value | UInt64(bytes[payload + 8 + slot * 8 + byte]) << (8 * byte)
            }
        }
    }

    /// Moves `count` records from slot `from` to slot `to` of the tally frame of `path` and
    /// writes fresh checksums: the frame checks and its counts still sum to the records.
    static func moveCount(_ path: String, _ count: UInt64, from: Int, to: Int) throws {
        var bytes = try Files.bytes(path)
        let frame = TallyTests.tallyOffset(bytes.count)
        let payload = frame + 40
        var counts = try Self.counts(path)
        counts[from] -= count
        counts[to] += count
        for slot in [from, to] {
            withUnsafeBytes(of: counts[slot].littleEndian) {
                bytes.replaceSubrange((payload + 8 + slot * 8)..<(payload + 16 + slot * 8), with: $0)
            }
        }
        withUnsafeBytes(of: CRC32C.checksum(Array(bytes[payload..<(payload + 136)])).littleEndian) {
            bytes.replaceSubrange((frame + 32)..<(frame + 36), with: $0)
        }
        withUnsafeBytes(of: CRC32C.checksum(Array(bytes[frame..<(frame + 36)])).littleEndian) {
            bytes.replaceSubrange((frame + 36)..<(frame + 40), with: $0)
        }
        try Files.write(bytes, to: path)
    }

    // Proves a tally frame with 3 records moved from slot 2 to slot 1 (checksums and sum intact)
    // is left alone without a tally or under another scheme (healthy, nothing changed), and with
    // the log's tally is one rebuild step at the tally frame naming both slots and both counts;
    // repair rebuilds the segment byte for byte as written, keeps the tampered file as .broken,
    // leaves every other file as it was, and the log reads every record and plans nothing more.
    @Test func miscountedTallyIsRebuilt() async throws {
        let log = try await Written()
        defer { log.directory.cleanup() }
        let first = log.sealed[0]
        let counts = try Self.counts(log.path(first))
        try #require(counts[1] >= 3 && counts[2] >= 3, "\(counts)")
        try Self.moveCount(log.path(first), 3, from: 2, to: 1)
        let tampered = try Files.bytes(log.path(first))
        let segments = try EventLogReader(directory: log.directory.path).segments()
        #expect(segments.first?.tally?.counts[1] == counts[1] + 3, "the reader accepts the moved counts")

        let otherScheme = RecordTally(scheme: TallyTests.tally.scheme + 1, classify: TallyTests.tally.classify)
        for tally in [nil, otherScheme] {
            #expect(try EventLogWriter.repairPlans(directory: log.directory.path, recordTally: tally).isEmpty)
            let report = try EventLogWriter.repair(
                directory: log.directory.path,
                recordTally: tally,
                logger: quietLogger
            )
            #expect(report.damage == nil && report.lastSequence == 1200, "\(report)")
            #expect(report.setAside.isEmpty && report.rebuiltTallies.isEmpty, "\(report)")
            #expect(try Files.names(log.directory.path) == log.names)
            #expect(try Files.bytes(log.path(first)) == tampered)
        }

        let plans = try EventLogWriter.repairPlans(directory: log.directory.path, recordTally: TallyTests.tally)
        #expect(plans.count == 1, "\(plans)")
        let plan = try #require(plans.first)
        #expect(plan.action == .rebuildTally && plan.file == first)
        #expect(plan.offset == TallyTests.tallyOffset(tampered.count))
        #expect(
            plan.reason == "the tally frame's counts differ from its records: slot 1 counts \(counts[1] + 3) "
                + "against \(counts[1]) records, slot 2 counts \(counts[2] - 3) against \(counts[2])",
            "\(plan.reason)"
        )
        #expect(
            plan.tallyMismatches == [
                TallyMismatch(slot: 1, tallied: counts[1] + 3, records: counts[1]),
                TallyMismatch(slot: 2, tallied: counts[2] - 3, records: counts[2]),
            ]
        )
        let secondFirstSequence = try #require(UInt64(log.sealed[1].prefix(20)))
        #expect(
            plan.damage
                == .corruptSegment(
                    file: log.path(first),
                    offset: plan.offset,
                    sequence: secondFirstSequence - 1,
                    reason: plan.reason
                )
        )
        #expect(plan.cutBytes == 0 && plan.setAside.isEmpty && plan.lastCutSequence == nil)
        #expect(plan.lastKeptSequence == 1200)

        try log.expectRebuilt(first, plan: plan, original: tampered)
    }

    // Proves the steps keep the segments' order: a miscounted tally in the first sealed segment,
    // a damaged tally in the second and a damaged block in the third plan two rebuilds and then
    // the cut; repair rebuilds both as written and cuts at the third.
    @Test func miscountThenDamageThenCut() async throws {
        let log = try await Written()
        defer { log.directory.cleanup() }
        let (first, second, third) = (log.sealed[0], log.sealed[1], log.sealed[2])
        try Self.moveCount(log.path(first), 1, from: 1, to: 3)
        try TallyTests.Damage.flippedCount.apply(log.path(second))
        try TallyRepairTests.damageFirstBlock(log.path(third))
        let thirdFirstSequence = try #require(UInt64(third.prefix(20)))

        let plans = try EventLogWriter.repairPlans(directory: log.directory.path, recordTally: TallyTests.tally)
        #expect(plans.map(\.action) == [.rebuildTally, .rebuildTally, .cut], "\(plans)")
        #expect(plans.map(\.file) == [first, second, third])
        #expect(plans.map(\.tallyMismatches.count) == [2, 0, 0])
        #expect(plans.map(\.lastKeptSequence) == Array(repeating: thirdFirstSequence - 1, count: 3))

        let report = try EventLogWriter.repair(
            directory: log.directory.path,
            recordTally: TallyTests.tally,
            logger: quietLogger
        )
        #expect(report.rebuiltTallies.map(\.file) == [first, second])
        #expect(report.damage == plans.first?.damage)
        #expect(report.lastSequence == thirdFirstSequence - 1)
        #expect(try Files.bytes(log.path(first)) == log.bytes[first])
        #expect(try Files.bytes(log.path(second)) == log.bytes[second])
        #expect(try readAll(log.directory.path) == Array(log.records.prefix(Int(thirdFirstSequence - 1))))
    }
}
