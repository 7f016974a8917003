import Foundation
import Testing

/// A damaged tally frame end to end with the real binaries: the server refuses to start and says
/// repair rebuilds the tally, `tunnel-replay repair --yes` rebuilds it without cutting a record,
/// and the log then verifies, counts as before and serves again (docs/FORMAT.md "Repair").
@Suite struct TallyRepairEndToEndTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the `tunnel-replay` built beside `tunnel-registry` to completion (seconds on a small log).
    static func replay(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = ServerProcess.binaryURL.deletingLastPathComponent().appendingPathComponent(
            "tunnel-replay")
        process.arguments = arguments
        let stdout = Pipe.closedOnExec()
        let stderr = Pipe.closedOnExec()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    // Proves a flipped count in the first tallied segment's tally frame of a generated data
    // directory stops the server with a hint to rebuild it; repair's json plan row says
    // rebuild_tally with nothing cut; repair --yes then exits 0, rebuilds
    // the segment byte for byte as generated, keeps the damaged file as .broken and sets nothing
    // aside; verify exits 0, stats prints exactly what it did before the damage, and the server
    // starts on the directory.
    @Test func damagedTallyIsRebuiltAndTheServerStarts() async throws {
        let root = try ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let generated = try Self.replay(["generate", "--scenario", "fixture", "--out", data])
        try #require(generated.status == 0, "\(generated.stderr)")
        let stats = try Self.replay(["stats", "--format", "json", "--data-dir", data])
        try #require(stats.status == 0 && !stats.stdout.isEmpty, "\(stats.stderr)")

        // The oldest segment with header version 2 (bytes 8-9): a sealed one with a tally frame,
        // 176 bytes before its 56-byte seal; its fourth count (after the 40-byte frame header,
        // the scheme and the reserved field) gets a flipped bit, failing the payload checksum.
        let names = try FileManager.default.contentsOfDirectory(atPath: data + "/log").filter { $0.hasSuffix(".seg") }
        var tallied: (name: String, bytes: [UInt8])?
        for name in names.sorted() where tallied == nil {
            let bytes = try Self.bytes(data + "/log/" + name)
            if bytes.count > 64 + 232, bytes[8] == 2, bytes[9] == 0 { tallied = (name, bytes) }
        }
        let (name, original) = try #require(tallied, "no version-2 segment in \(names)")
        var damaged = original
        damaged[damaged.count - 232 + 40 + 8 + 3 * 8] ^= 0x01
        try Data(damaged).write(to: URL(fileURLWithPath: data + "/log/" + name))
        let others = try names.filter { $0 != name }.map { ($0, try Self.bytes(data + "/log/" + $0)) }

        let refused = try await ServerProcess.start(
            dataDirectory: root + "/unused", arguments: ["--data-dir", data], waitForReady: false)
        let (status, _) = try await refused.waitForExit()
        let refusal = refused.stderr
        refused.cleanUp()
        #expect(status == 1)
        #expect(refusal.contains("log/\(name) at offset \(damaged.count - 232)"), "\(refusal)")
        #expect(refusal.contains("run repair to rebuild the tally frame"), "\(refusal)")

        // Without --yes and with nothing on stdin, repair prints its plan row and changes nothing.
        let planned = try Self.replay(["repair", "--data-dir", data, "--format", "json"])
        #expect(planned.status == 2, "\(planned.stderr)")
        let rows = planned.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        #expect(rows.count == 1, "\(planned.stdout)")
        #expect(rows.first?["status"] as? String == "plan" && rows.first?["action"] as? String == "rebuild_tally")
        #expect(rows.first?["file"] as? String == "log/" + name && rows.first?["cut_bytes"] as? Int == 0)
        #expect((rows.first?["set_aside"] as? [String])?.isEmpty == true, "\(planned.stdout)")
        #expect(try Self.bytes(data + "/log/" + name) == damaged)

        let repaired = try Self.replay(["repair", "--data-dir", data, "--yes"])
        #expect(repaired.status == 0, "\(repaired.stdout) \(repaired.stderr)")
        #expect(repaired.stdout.contains("Repair will rebuild the segment's tally frame"), "\(repaired.stdout)")
        #expect(repaired.stdout.contains("Rebuilt the tally frame of log/\(name)"), "\(repaired.stdout)")
        #expect(repaired.stdout.contains("set aside: nothing."), "\(repaired.stdout)")
        #expect(try Self.bytes(data + "/log/" + name) == original)
        #expect(try Self.bytes(data + "/log/" + name + ".broken") == damaged)
        for (other, bytes) in others { #expect(try Self.bytes(data + "/log/" + other) == bytes, "\(other)") }

        let verified = try Self.replay(["verify", "--data-dir", data])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(try Self.replay(["stats", "--format", "json", "--data-dir", data]).stdout == stats.stdout)

        let server = try await ServerProcess.start(dataDirectory: data)
        defer { server.cleanUp() }
        #expect(try await server.stop().status == 0, "\(server.stderr)")
    }
}
