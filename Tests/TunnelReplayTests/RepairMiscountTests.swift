import EventLog
import Foundation
import Testing

/// `repair` on a tally frame whose counts moved between kinds (checksums and sum intact): verify
/// reports it and says repair rebuilds it, stats miscounts, and repair rebuilds the tally from the
/// records so verify passes and stats counts as before (docs/FORMAT.md "Repair").
@Suite struct RepairMiscountTests {
    static func stats(_ data: String) throws -> ToolRunner.Output {
        let output = try ToolRunner.run(["stats", "--format", "json", "--data-dir", data])
        #expect(output.status == 0, "\(output.stderr)")
        return output
    }

    static func byKind(_ output: ToolRunner.Output) -> [String: Int]? {
        output.jsonLines.first?["by_kind"] as? [String: Int]
    }

    // Proves, on a generated data directory with 3 renews moved to register in a middle segment's
    // tally: verify exits 1 with one row at the tally frame naming both kinds and advising repair,
    // stats by_kind is off by 3; repair's json plan row is a rebuild_tally at the tally frame with
    // the kinds named, and declining changes nothing; repair --yes exits 0 and rebuilds the segment
    // byte for byte as generated (the tampered file kept as .broken); verify then exits 0 and
    // stats prints exactly what it did before the tampering.
    @Test func movedCountsAreRebuilt() throws {
        let (root, data, tallied) = try VerifyTallyTests.copy()
        defer { try? FileManager.default.removeItem(at: root) }
        let segment = tallied[1]
        let path = data + "/log/" + segment.fileName
        let counts = try #require(segment.tally?.counts)
        let (registers, renews) = (Int(counts[1]), Int(counts[2]))
        try #require(renews >= 3, "\(counts)")
        let before = try Self.stats(data)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        for _ in 0..<3 { try StatsTallyTests.moveCount(in: path, from: 2, to: 1) }
        let tampered = try Data(contentsOf: URL(fileURLWithPath: path))
        let offset = segment.bytes - 56 - 176

        let verified = try VerifyTallyTests.verify(data, threads: 1)
        #expect(verified.status == 1, "\(verified.stdout) \(verified.stderr)")
        #expect(verified.jsonLines.count == 1, "\(verified.stdout)")
        let row = verified.jsonLines.first ?? [:]
        #expect(row["file"] as? String == "log/" + segment.fileName && row["offset"] as? Int == offset, "\(row)")
        let text = row["problem"] as? String ?? ""
        #expect(text.contains("tally counts \(registers + 3) register, the records hold \(registers)"), "\(text)")
        #expect(text.contains("tally counts \(renews - 3) renew, the records hold \(renews)"), "\(text)")
        #expect(text.contains("run repair to rebuild the tally frame from the records"), "\(text)")
        var miscounted = try #require(Self.byKind(before))
        miscounted["register"]! += 3
        miscounted["renew"]! -= 3
        #expect(Self.byKind(try Self.stats(data)) == miscounted)

        let declined = try ToolRunner.run(["repair", "--format", "json", "--data-dir", data], input: "n\n")
        #expect(declined.status == 1, "\(declined.stdout) \(declined.stderr)")
        #expect(declined.jsonLines.count == 1, "\(declined.stdout)")
        let plan = declined.jsonLines.first ?? [:]
        #expect(plan["status"] as? String == "plan" && plan["action"] as? String == "rebuild_tally", "\(plan)")
        #expect(plan["file"] as? String == "log/" + segment.fileName && plan["offset"] as? Int == offset, "\(plan)")
        #expect(plan["cut_bytes"] as? Int == 0 && (plan["set_aside"] as? [String])?.isEmpty == true, "\(plan)")
        #expect(
            plan["problem"] as? String
                == "the tally frame's counts differ from its records: register counts \(registers + 3) against "
                + "\(registers) records, renew counts \(renews - 3) against \(renews) records",
            "\(plan)"
        )
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == tampered)

        let repaired = try ToolRunner.run(["repair", "--data-dir", data, "--yes"])
        #expect(repaired.status == 0, "\(repaired.stdout) \(repaired.stderr)")
        #expect(repaired.stdout.contains("Rebuilt the tally frame of log/\(segment.fileName)"), "\(repaired.stdout)")
        #expect(repaired.stdout.contains("set aside: nothing."), "\(repaired.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + ".broken")) == tampered)

        let reverified = try VerifyTallyTests.verify(data, threads: 1)
        #expect(reverified.status == 0, "\(reverified.stdout) \(reverified.stderr)")
        #expect(try Self.stats(data).stdout == before.stdout)
        let again = try ToolRunner.run(["repair", "--data-dir", data, "--yes"])
        #expect(again.status == 0 && again.stdout.contains("healthy"), "\(again.stdout) \(again.stderr)")
    }
}
