#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation

/// A real `tunnel-registry` process started by the benchmark: its stdout goes to a file that is
/// polled for the `http listening on` line; `/readyz` is asked over a plain socket.
final class ServerProcess {
    let process = Process()
    let directory: String
    let outputPath: String
    let errorPath: String
    /// When the process was spawned (monotonic nanoseconds).
    private(set) var spawnedAt: UInt64 = 0

    /// Spawns `binary` with `arguments` (plus `--data-dir` in a new temporary directory,
    /// `--http 127.0.0.1:0 --grpc off --log-level warning`).
    init(binary: String, arguments: [String]) throws {
        directory = NSTemporaryDirectory() + "shared-bench-server-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        outputPath = directory + ".out"
        errorPath = directory + ".err"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            ["--data-dir", directory, "--http", "127.0.0.1:0", "--grpc", "off", "--log-level", "warning"] + arguments
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        spawnedAt = monotonicNanoseconds()
        try process.run()
    }

    /// The HTTP address the server printed, waiting up to `seconds` for it.
    func httpAddress(seconds: Double = 120) throws -> (host: String, port: Int) {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while monotonicNanoseconds() < deadline {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("http listening on ") }),
                let address = line.split(separator: " ").last, let colon = address.lastIndex(of: ":"),
                let port = Int(address[address.index(after: colon)...])
            {
                return (String(address[..<colon]), port)
            }
            guard process.isRunning else { throw failure("exited before listening") }
            usleep(1_000)
        }
        throw failure("did not print its HTTP address within \(Int(seconds)) s")
    }

    /// Polls `GET /readyz` every millisecond until it answers 200; returns the milliseconds from
    /// spawn to that answer.
    func waitReady(seconds: Double = 300) throws -> Double {
        let (host, port) = try httpAddress(seconds: seconds)
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while monotonicNanoseconds() < deadline {
            if httpStatus(host: host, port: port, path: "/readyz") == 200 {
                return Double(monotonicNanoseconds() - spawnedAt) / 1e6
            }
            guard process.isRunning else { throw failure("exited before it was ready") }
            usleep(1_000)
        }
        throw failure("was not ready within \(Int(seconds)) s")
    }

    /// utime + stime of the process so far, in seconds (`/proc/PID/stat`).
    func cpuSeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The `/sd` URL of the server.
    func sdURL() throws -> String {
        let (host, port) = try httpAddress()
        return "http://\(host):\(port)/sd"
    }

    /// Stops the server with SIGTERM (it drains and closes) and removes its files.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }

    private func failure(_ what: String) -> any Error {
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        return ValidationError(
            "tunnel-registry \(process.arguments?.joined(separator: " ") ?? "") \(what); stderr: "
                + errors.suffix(2_000))
    }
}

/// The status code of `GET path` on host:port, or nil when nothing answers.
func httpStatus(host: String, port: Int, path: String) -> Int? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else {
        return nil
    }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
    guard count >= 12 else { return nil }
    return Int(String(decoding: buffer[9..<12], as: UTF8.self))
}

/// Monotonic nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
