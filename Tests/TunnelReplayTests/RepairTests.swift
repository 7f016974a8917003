import Foundation
import Testing

@testable import tunnel_replay

/// `repair`: says what it will cut, asks, keeps the cut bytes as `.broken`, and leaves a log
/// that verifies and reads.
@Suite struct RepairTests {
    private func files(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    // Proves repair --yes on a corrupt sealed segment names file, offset, sequences and bytes, sets
    // the damaged and later segments aside as .broken (byte for byte), and leaves a log that verifies.
    @Test func corruptSealedWithYes() throws {
        let (root, data) = try ToolRunner.copyFixture("corrupt-sealed")
        defer { try? FileManager.default.removeItem(at: root) }
        let segmentsBefore = try files(data + "/log").filter { $0.hasSuffix(".seg") }
        var originals: [String: Data] = [:]
        for name in segmentsBefore { originals[name] = FileManager.default.contents(atPath: data + "/log/" + name) }
        let output = try ToolRunner.run(["repair", "--data-dir", data, "--yes"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("Damage: log/\(segmentsBefore[0]) at offset "))
        #expect(output.stdout.contains("cut:   sequences "))
        #expect(output.stdout.contains(" bytes"))
        #expect(output.stdout.contains("Repaired: the log now ends at sequence"))
        let after = try files(data + "/log")
        for name in segmentsBefore {
            #expect(after.contains(name + ".broken"), "\(after)")
            #expect(FileManager.default.contents(atPath: data + "/log/" + name + ".broken") == originals[name])
        }
        #expect(try ToolRunner.run(["verify", "--data-dir", data]).status == 0)
        #expect(try ToolRunner.run(["repair", "--data-dir", data, "--yes"]).stdout.contains("healthy"))
    }

    // Proves repair on a torn tail keeps every whole commit: one record fewer than the healthy log,
    // and the events before the cut read back unchanged.
    @Test func tornTailKeepsWholeCommits() throws {
        let (root, data) = try ToolRunner.copyFixture("torn-tail")
        defer { try? FileManager.default.removeItem(at: root) }
        let before = try ToolRunner.run(["events", "--all", "--format", "csv", "--data-dir", data]).stdout
        let output = try ToolRunner.run(["repair", "--data-dir", data], input: "y\n")
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("keep:  sequences up to "))
        #expect(try files(data + "/log").contains { $0.hasSuffix(".broken") })
        #expect(try ToolRunner.run(["verify", "--data-dir", data]).status == 0)
        #expect(try ToolRunner.run(["events", "--all", "--format", "csv", "--data-dir", data]).stdout == before)
    }

    // Proves repair asks: "n" changes nothing (exit 1), an empty stdin refuses with a hint to pass --yes (exit 2).
    @Test func asksAndRefusesWithoutAnswer() throws {
        let (root, data) = try ToolRunner.copyFixture("corrupt-sealed")
        defer { try? FileManager.default.removeItem(at: root) }
        let listing = try files(data + "/log")
        let declined = try ToolRunner.run(["repair", "--data-dir", data], input: "n\n")
        #expect(declined.status == 1)
        #expect(declined.stdout.contains("Repair will cut the log there"))
        #expect(try files(data + "/log") == listing)
        let silent = try ToolRunner.run(["repair", "--data-dir", data], input: "")
        #expect(silent.status == 2)
        #expect(silent.stderr.contains("pass --yes"))
        #expect(try files(data + "/log") == listing)
    }

    // Proves the healthy fixture is left alone.
    @Test func healthyIsLeftAlone() throws {
        let (root, data) = try ToolRunner.copyFixture("healthy")
        defer { try? FileManager.default.removeItem(at: root) }
        let listing = try files(data + "/log")
        let output = try ToolRunner.run(["repair", "--data-dir", data], input: "")
        #expect(output.status == 0)
        #expect(output.stdout.contains("healthy: nothing to cut"))
        #expect(try files(data + "/log") == listing)
    }
}
