import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A `tunnel-registry` process in cluster mode on loopback port 0 with its own data directory;
/// output goes to files, so no reader waits on a pipe another process may hold. HTTP calls go
/// through AsyncHTTPClient (its own event loops, a deadline on every call).
final class RegistryProcess: Sendable {
    let process: Process
    let directory: String
    let instance: String
    let httpBase: String
    /// The gRPC port, 0 when the gRPC listener is off.
    let grpcPort: Int

    /// A binary built beside the test bundle (`tunnel-registry`, `tunnel-replay`).
    static func binary(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    private init(process: Process, directory: String, instance: String, httpBase: String, grpcPort: Int) {
        self.process = process
        self.directory = directory
        self.instance = instance
        self.httpBase = httpBase
        self.grpcPort = grpcPort
    }

    /// Starts an instance on `postgres` and waits (up to 120 s) until it is ready.
    static func start(postgres: String, instance: String, leaseTTL: String = "30s", grpc: Bool = false)
        async throws -> RegistryProcess
    {
        let directory = try makeTemporaryDirectory(prefix: "cluster-\(instance)")
        let process = try launch(
            ["--data-dir", directory + "/data", "--http", "127.0.0.1:0", "--grpc", grpc ? "127.0.0.1:0" : "off",
             "--postgres", postgres, "--instance", instance, "--lease-ttl", leaseTTL], directory: directory)
        let ready = await eventually(seconds: 120) {
            let text = (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? ""
            return text.contains("ready after replay") || !process.isRunning
        }
        let text = (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? ""
        guard ready, process.isRunning, let address = announced("http", in: text) else {
            let stderr = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            throw HarnessError(description: "tunnel-registry \(instance) did not start: \(text) \(stderr)")
        }
        let grpcPort = announced("grpc", in: text).flatMap { $0.split(separator: ":").last.flatMap { Int($0) } } ?? 0
        return RegistryProcess(
            process: process, directory: directory, instance: instance, httpBase: "http://\(address)",
            grpcPort: grpcPort)
    }

    private static func announced(_ front: String, in text: String) -> String? {
        guard let range = text.range(of: "\(front) listening on ") else { return nil }
        return text[range.upperBound...].split(separator: "\n").first.map(String.init)
    }

    /// Runs the server to its exit (a start that must fail); returns its status and stderr.
    static func run(postgres: String) async throws -> (status: Int32, stderr: String) {
        let directory = try makeTemporaryDirectory(prefix: "cluster-fail")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try launch(
            ["--data-dir", directory + "/data", "--http", "127.0.0.1:0", "--grpc", "off", "--postgres", postgres],
            directory: directory)
        _ = await eventually(seconds: 120) { !process.isRunning }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "")
    }

    static func launch(_ arguments: [String], directory: String, binary: String = binary("tunnel-registry")) throws
        -> Process
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TUNNEL_REGISTRY_") }
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/stdout")
        process.standardError = FileHandle(forWritingAtPath: directory + "/stderr")
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// One plugin call on `/sd`; gives up after `seconds` (a hang is an error, not a wait).
    func call(_ method: String, query: String = "", body: String? = nil, seconds: Int64 = 60) async throws
        -> (status: Int, text: String)
    {
        try await get(path: "/sd" + query, method: method, body: body, seconds: seconds)
    }

    /// Any request on the HTTP port.
    func get(path: String, method: String = "GET", body: String? = nil, seconds: Int64 = 60) async throws
        -> (status: Int, text: String)
    {
        var request = HTTPClientRequest(url: httpBase + path)
        request.method = HTTPMethod(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(seconds))
        let buffer = try await response.body.collect(upTo: 4 << 20)
        return (Int(response.status.code), String(buffer: buffer))
    }

    /// The value of a gauge or counter on `/metrics` (nil when absent or unreachable).
    func metric(_ name: String) async -> Double? {
        guard let text = try? await get(path: "/metrics", seconds: 10).text else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Whether `/metrics` says this instance leads the sweeper.
    func leads() async -> Bool {
        await metric("tunnel_registry_sweeper_leader") == 1
    }

    /// The ids Get answers for `name` (nil when Get failed).
    func ids(_ name: String) async -> Set<String>? {
        guard let reply = try? await call("GET", query: "?name=\(name)", seconds: 10), reply.status == 200 else {
            return nil
        }
        return Set(GetReply.services(reply.text).map(\.id))
    }

    /// SIGKILL: the process dies at once, with requests and statements in flight.
    func kill() async {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        _ = await eventually(seconds: 60) { !process.isRunning }
    }

    /// SIGTERM and a wait for the graceful exit; a server still running after 60 s is a failure
    /// (recorded with its last log lines) and gets SIGKILL, so a hung server never hangs the suite.
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(60)
            while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
            if process.isRunning {
                let lines = stderr.split(separator: "\n").suffix(10).joined(separator: "\n")
                Issue.record("tunnel-registry \(instance) still running 60 s after SIGTERM; last log lines:\n\(lines)")
                Glibc.kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The server's log so far (for failure messages).
    var stderr: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }
}

/// A Get reply's services, decoded.
enum GetReply {
    struct Entry: Hashable, Sendable {
        var id: String
        var name: String
        var node: String
        var network: String
        var address: String
    }

    static func services(_ text: String) -> [Entry] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let list = object["services"] as? [[String: String]]
        else { return [] }
        return list.map {
            Entry(
                id: $0["id"] ?? "", name: $0["name"] ?? "", node: $0["node"] ?? "", network: $0["network"] ?? "",
                address: $0["address"] ?? "")
        }
    }
}

/// Runs `tunnel-replay` to its end; its output goes to files (a pipe could fill and stall it).
func runReplay(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    let directory = try makeTemporaryDirectory(prefix: "replay")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let process = try RegistryProcess.launch(
        arguments, directory: directory, binary: RegistryProcess.binary("tunnel-replay"))
    _ = await eventually(seconds: 120) { !process.isRunning }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    let read = { (file: String) in (try? String(contentsOfFile: directory + "/" + file, encoding: .utf8)) ?? "" }
    return (process.terminationStatus, read("stdout"), read("stderr"))
}

/// Microseconds since 1970 on this machine's clock (the one PostgreSQL stamps commits with).
func wallMicroseconds() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
}

/// `2026-11-26T03:14:00.123456Z` for `tunnel-replay --at`.
func rfc3339(_ microseconds: Int64) -> String {
    let seconds = microseconds / 1_000_000
    let fraction = microseconds % 1_000_000
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    let fractionText = String(fraction).count < 6
        ? String(repeating: "0", count: 6 - String(fraction).count) + String(fraction) : String(fraction)
    let date = String(
        format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
        Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    return "\(date).\(fractionText)Z"
}
