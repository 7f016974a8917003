import Foundation
import Synchronization
import Testing

/// A real `tunnel-registry` process on kernel-chosen loopback ports with its own temporary
/// data directory. The binary is found next to the running test bundle.
final class ServerProcess: Sendable {
    let dataDirectory: String
    let process: Process
    private let output: OutputBuffer
    let stderrPath: String

    /// Where the HTTP and gRPC fronts listen (`127.0.0.1:PORT`); nil until announced or when off.
    var httpAddress: String? { Self.address(in: stdout, front: "http") }
    var grpcAddress: String? { Self.address(in: stdout, front: "grpc") }

    /// The gRPC port (0 when unknown).
    var grpcPort: Int { grpcAddress.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } } ?? 0 }

    var httpBase: String { "http://\(httpAddress ?? "-")" }

    /// The `tunnel-registry` binary built with the tests.
    static var binaryURL: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        for directory in candidates {
            let url = directory.appendingPathComponent("tunnel-registry")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return candidates[0].appendingPathComponent("tunnel-registry")
    }

    /// A fresh temporary directory, removed by the caller when it is done.
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("tunnel-registry-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Starts the server and waits until its listeners are bound (and, by default, ready).
    /// `arguments` come after `--data-dir DIR --http 127.0.0.1:0 --grpc 127.0.0.1:0`.
    static func start(
        dataDirectory: String? = nil,
        arguments: [String] = [],
        environment: [String: String] = [:],
        defaultListeners: Bool = true,
        launcher: [String] = [],
        waitForReady: Bool = true
    ) async throws -> ServerProcess {
        let directory = try dataDirectory ?? temporaryDirectory()
        var full = ["--data-dir", directory]
        if defaultListeners { full += ["--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"] }
        full += arguments
        let server = try ServerProcess(
            dataDirectory: directory, arguments: full, environment: environment, launcher: launcher
        )
        if waitForReady {
            try await server.waitForOutput("ready after replay")
            if listenerEnabled(full, "--http") { try await server.waitForOutput("http listening on ") }
            if listenerEnabled(full, "--grpc") { try await server.waitForOutput("grpc listening on ") }
        }
        return server
    }

    private init(
        dataDirectory: String, arguments: [String], environment: [String: String], launcher: [String]
    ) throws {
        self.dataDirectory = dataDirectory
        let process = Process()
        if launcher.isEmpty {
            process.executableURL = Self.binaryURL
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: launcher[0])
            process.arguments = Array(launcher.dropFirst()) + [Self.binaryURL.path] + arguments
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TUNNEL_REGISTRY_") }
        env.merge(environment) { _, new in new }
        process.environment = env
        let stdoutPipe = Pipe.closedOnExec()
        process.standardOutput = stdoutPipe
        let stderrPath = dataDirectory + ".stderr.log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        self.stderrPath = stderrPath
        let output = OutputBuffer()
        self.output = output
        self.process = process
        try process.run()
        // A thread of its own reads to EOF (blocking reads), so the end of the output is never
        // missed, however early the process exits.
        let reading = stdoutPipe.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let data = reading.availableData
                if data.isEmpty { break }
                output.append(String(decoding: data, as: UTF8.self))
            }
            output.finish()
        }
    }

    private static func listenerEnabled(_ arguments: [String], _ option: String) -> Bool {
        guard let index = arguments.lastIndex(of: option), index + 1 < arguments.count else { return true }
        return arguments[index + 1] != "off"
    }

    private static func address(in text: String, front: String) -> String? {
        let marker = "tunnel-registry: \(front) listening on "
        guard let range = text.range(of: marker) else { return nil }
        let rest = text[range.upperBound...]
        guard let end = rest.firstIndex(of: "\n") else { return nil }
        return String(rest[..<end])
    }

    /// Everything the server printed on stdout so far.
    var stdout: String { output.text }

    /// The server's log (stderr) so far.
    var stderr: String {
        (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    }

    /// Waits until stdout contains `text`: polls until the deadline (generous, for a busy
    /// machine) or the process's exit, then checks once more after the last output arrived.
    /// A failure says what the server printed last on stdout and stderr.
    func waitForOutput(_ text: String, seconds: Double = ServerProcess.waitSeconds) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline && process.isRunning {
            if stdout.contains(text) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        if !process.isRunning { await waitForStdoutEnd() }
        if stdout.contains(text) { return }
        let state = process.isRunning ? "still running after \(seconds) s" : "exited (\(process.terminationStatus))"
        Issue.record(
            """
            server did not print "\(text)"; it is \(state)
            last stdout lines:
            \(Self.lastLines(stdout))
            last stderr lines:
            \(Self.lastLines(stderr))
            """
        )
        throw ServerProcessError.timeout(text)
    }

    /// How long waits for the server last by default: long enough for a start on a machine
    /// whose cores are all busy; a healthy start takes well under a second.
    static let waitSeconds: Double = 120

    /// Waits until the stdout pipe reached its end (the process exited and everything it
    /// wrote was read), at most `seconds`.
    func waitForStdoutEnd(seconds: Double = ServerProcess.waitSeconds) async {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !output.isFinished && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The last `count` lines of `text`, for failure messages.
    static func lastLines(_ text: String, count: Int = 15) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.suffix(count).joined(separator: "\n")
    }

    /// Sends `signal` and waits for the process to end; returns its exit status (or the
    /// signal number when it died of a signal).
    @discardableResult
    func stop(signal: Int32 = SIGTERM, seconds: Double = ServerProcess.waitSeconds) async throws -> (status: Int32, bySignal: Bool) {
        if process.isRunning { kill(process.processIdentifier, signal) }
        return try await waitForExit(seconds: seconds)
    }

    /// Waits for the process to end on its own, and for its stdout to be read to the end.
    func waitForExit(seconds: Double = ServerProcess.waitSeconds) async throws -> (status: Int32, bySignal: Bool) {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            let lines = Self.lastLines(stderr)
            Issue.record("server still running \(seconds) s after it was asked to exit; last stderr lines:\n\(lines)")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ServerProcessError.timeout("exit")
        }
        process.waitUntilExit()
        await waitForStdoutEnd()
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
    }

    /// Stops the process if still running and removes the data directory.
    func cleanUp() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Failures of the test harness itself.
enum ServerProcessError: Error {
    case timeout(String)
}

/// Text collected from a pipe on another thread, and whether the pipe reached its end.
final class OutputBuffer: Sendable {
    private let storage = Mutex(("", false))

    func append(_ text: String) {
        storage.withLock { $0.0 += text }
    }

    func finish() {
        storage.withLock { $0.1 = true }
    }

    var text: String { storage.withLock { $0.0 } }

    var isFinished: Bool { storage.withLock { $0.1 } }
}

extension Pipe {
    /// A pipe whose two ends are closed on exec, so processes other tests start meanwhile do not
    /// inherit its write end (which would hold back EOF until they exit). The child it is given
    /// to as stdout gets its own copy all the same.
    static func closedOnExec() -> Pipe {
        let pipe = Pipe()
        for fd in [pipe.fileHandleForReading.fileDescriptor, pipe.fileHandleForWriting.fileDescriptor] {
            _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        }
        return pipe
    }
}
