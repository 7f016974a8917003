#if canImport(Glibc)
import Glibc
#endif
import Foundation
import BenchSupport

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
        let started = monotonicNanoseconds()
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var port: Int?
        while monotonicNanoseconds() - started < 300_000_000_000, process.isRunning {
            if port == nil {
                let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                port = text.split(separator: "\n").first { $0.contains("http listening on ") }
                    .flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
            }
            if let port, httpStatus(port: port, path: "/readyz") == 200 {
                let elapsed = milliseconds(monotonicNanoseconds() - started)
                return (elapsed, processCPUSeconds(process.processIdentifier))
            }
            usleep(1_000)
        }
        return nil
    }
}

