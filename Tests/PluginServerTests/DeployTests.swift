import Foundation
import Testing

/// The files under deploy/: the systemd unit passes `systemd-analyze verify`, and the
/// environment file example sets only variables the server reads.
@Suite struct DeployTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    // Skipped (and reported so) where systemd-analyze is missing; `scripts/install-deps.sh test`
    // installs it (Debian package `systemd`).
    @Test(.enabled(if: SystemdAnalyze.isInstalled, "systemd-analyze is missing: apt-get install -y systemd"))
    func unitPassesSystemdAnalyzeVerify() throws {
        // Proves deploy/tunnel-registry.service is a valid unit with no unknown or misspelt
        // settings. ExecStart points at the freshly built binary, since verify checks it exists.
        let unit = try String(
            contentsOf: Self.root.appendingPathComponent("deploy/tunnel-registry.service"),
            encoding: .utf8
        )
        #expect(unit.contains("ExecStart=/usr/local/bin/tunnel-registry\n"))
        for setting in [
            "User=tunnel-registry", "StateDirectory=tunnel-registry", "Restart=on-failure", "KillSignal=SIGTERM",
            "NoNewPrivileges=yes", "ProtectSystem=strict",
        ] {
            #expect(unit.contains(setting + "\n"), "the unit lacks \(setting)")
        }
        #expect(!unit.contains("ExecReload"), "the server has no reload; a restart applies new settings")
        let directory = try ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/tunnel-registry.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/tunnel-registry", with: ServerProcess.binaryURL.path)
            .write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SystemdAnalyze.path)
        process.arguments = ["verify", path]
        let output = Pipe.closedOnExec()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.isEmpty, "systemd-analyze verify complained:\n\(text)")
    }

    @Test func environmentExampleSetsOnlyKnownVariables() async throws {
        // Proves every TUNNEL_REGISTRY_* in deploy/tunnel-registry.env names an option the server
        // reads: the server started with that environment prints it in its help.
        let text = try String(
            contentsOf: Self.root.appendingPathComponent("deploy/tunnel-registry.env"),
            encoding: .utf8
        )
        let variables = text.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop { $0 == "#" }
            guard trimmed.hasPrefix("TUNNEL_REGISTRY_"), let equals = trimmed.firstIndex(of: "=") else { return nil }
            return String(trimmed[..<equals])
        }
        #expect(variables.count >= 6)
        let server = try await ServerProcess.start(arguments: ["--help"], defaultListeners: false, waitForReady: false)
        defer { server.cleanUp() }
        _ = try await server.waitForExit()
        for variable in variables {
            let option =
                "--"
                + variable.dropFirst("TUNNEL_REGISTRY_".count).lowercased().replacingOccurrences(of: "_", with: "-")
            #expect(server.stdout.contains(option), "\(variable): the server has no \(option)")
        }
    }
}

/// Where `systemd-analyze` lives, and whether it is there.
enum SystemdAnalyze {
    static let path = "/usr/bin/systemd-analyze"

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }
}
