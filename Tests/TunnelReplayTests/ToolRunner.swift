import Foundation

/// Runs the built `tunnel-replay` next to the test bundle and captures its output.
enum ToolRunner {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String

        /// stdout parsed as one JSON object per line.
        var jsonLines: [[String: Any]] {
            stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            }
        }
    }

    /// The binary: in the directory of the running test executable (`.build/debug`).
    static var binary: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if directory.path.hasSuffix(".xctest/Contents/MacOS") {
            directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        }
        return directory.appendingPathComponent("tunnel-replay")
    }

    /// `Fixtures/replay/<name>` in the source tree.
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/replay/\(name)").path
    }

    /// Runs the tool to completion (it reads small fixtures: seconds at most). `input` is written
    /// to its stdin, which is then closed (an empty string: a stdin with nothing to read).
    static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged["TUNNEL_REPLAY_NOW"] = "2026-11-26T03:10:00Z"
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self)
        )
    }

    /// A fresh temporary directory for one test.
    /// A copy of `Fixtures/replay/<fixture>` as `data` in a fresh temporary directory `root`.
    static func copyFixture(_ fixture: String) throws -> (root: URL, data: String) {
        let root = try temporaryDirectory()
        let data = root.appendingPathComponent("data").path
        try FileManager.default.copyItem(atPath: ToolRunner.fixture(fixture), toPath: data)
        return (root, data)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tunnel-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
