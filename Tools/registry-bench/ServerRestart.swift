#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension RegistryBench {
    /// The real server on a data directory left by a SIGKILL: spawns `tunnel-registry` (the one
    /// beside this benchmark) on a copy of `directory` with both listeners on, and returns the
    /// milliseconds from spawn to `/readyz` 200 and the CPU seconds the process used until then.
    static func serverRestart(directory: String) throws -> (milliseconds: Double, cpuSeconds: Double)? {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tunnel-registry").path
        guard FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        let copy = directory + "-server"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: directory, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try? FileManager.default.removeItem(atPath: copy + "/log/LOCK")
        let output = copy + ".out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--data-dir", copy, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--log-level", "warning",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: output)
        let started = nanoseconds()
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var port: Int?
        while nanoseconds() - started < 300_000_000_000, process.isRunning {
            if port == nil {
                let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                port = text.split(separator: "\n").first { $0.contains("http listening on ") }
                    .flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
            }
            if let port, httpStatus(port: port, path: "/readyz") == 200 {
                let elapsed = milliseconds(nanoseconds() - started)
                return (elapsed, processCPUSeconds(process.processIdentifier))
            }
            usleep(1_000)
        }
        return nil
    }
}

/// utime + stime of process `pid` in seconds (`/proc/PID/stat`).
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The status code of `GET path` on 127.0.0.1:port, or nil when nothing answers.
func httpStatus(port: Int, path: String) -> Int? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else {
        return nil
    }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
    guard count >= 12 else { return nil }
    return Int(String(decoding: buffer[9..<12], as: UTF8.self))
}
