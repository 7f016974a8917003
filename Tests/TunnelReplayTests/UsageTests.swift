import EventLog
import FileStore
import Foundation
import Registry
import Testing

@testable import tunnel_replay

/// Exit codes and messages for mistakes, report writing, and follow.
@Suite struct UsageTests {
    let healthy = ToolRunner.fixture("healthy")

    // Proves usage mistakes and unreadable directories exit 2 with a message that says what to do.
    @Test(arguments: [
        (["events", "--data-dir", "/nonexistent/dir"], "--data-dir"),
        (["events", "--since", "yesterday"], "RFC 3339"),
        (["events", "--kind", "bogus"], "unknown --kind"),
        (["state", "--at", "-1h", "--seq", "3"], "not both"),
        (["flaps", "--window", "ten"], "--window"),
        (["events", "--since", "-1h", "--until", "-2h"], "swap them"),
        (["events", "--no-such-option"], "Unknown option"),
    ])
    func usageErrorsExitTwo(arguments: [String], message: String) throws {
        let withDirectory = arguments.contains("--data-dir") ? arguments : arguments + ["--data-dir", healthy]
        let output = try ToolRunner.run(withDirectory)
        #expect(output.status == 2, "\(arguments)")
        #expect(output.stderr.contains(message), "\(output.stderr)")
        #expect(output.stdout.isEmpty)
    }

    // Proves relative times count back from now (pinned by TUNNEL_REPLAY_NOW in the runner).
    @Test func relativeTimes() throws {
        let output = try ToolRunner.run(
            [
                "events", "--format", "json", "--since", "-7m", "--until", "-6m30s", "--kind", "register", "--data-dir",
                healthy,
            ])
        #expect(output.jsonLines.compactMap { $0["id"] as? String } == ["flap-1"])
    }

    // Proves report writes one self-contained HTML page with the SVG timeline.
    @Test func reportWritesHTML() throws {
        let directory = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("report.html").path
        let output = try ToolRunner.run(["report", "--data-dir", healthy, "-o", file])
        #expect(output.status == 0, "\(output.stderr)")
        let html = try String(contentsOfFile: file, encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("flappy") && html.contains("node-c"))
        #expect(!html.contains("<script"))
    }

    // Proves follow prints events appended by a running registry, then ends cleanly on SIGINT.
    @Test func followPrintsNewEvents() async throws {
        let directory = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(atPath: healthy, toPath: directory.appendingPathComponent("data").path)
        let data = directory.appendingPathComponent("data").path
        let process = Process()
        process.executableURL = ToolRunner.binary
        process.arguments = ["follow", "--format", "json", "--name", "followed", "--data-dir", data]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = Pipe()
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await Task.sleep(for: .milliseconds(300))
        var configuration = RegistryConfiguration(dataDirectory: data)
        configuration.clock = { fixtureSeconds(1000) }
        let registry = try await Registry.open(
            configuration, localLog: LocalLogOptions(fsync: .never), logger: RegistryLogReader.quietLogger)
        for index in 0..<3 {
            try await registry.register(
                Service(id: "f\(index)", name: "followed", node: "node-z", network: "tcp", address: "10.9.9.9:80"),
                peer: Peer(ip: "10.9.9.9", port: 5000)
            )
        }
        try await registry.close()
        try await Task.sleep(for: .milliseconds(800))
        process.interrupt()
        for _ in 0..<50 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let received = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        let ids = received.split(separator: "\n").compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["id"] as? String
        }
        #expect(ids == ["f0", "f1", "f2"])
    }
}
