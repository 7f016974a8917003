import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Real `tunnel-registry` processes in cluster mode on one throwaway PostgreSQL, talking HTTP.
@Suite(.serialized, needsPostgres) struct ClusterServerTests {
    // Proves two instances share one history: a register on A is answered by B's Get, a renew
    // on B keeps it, and a deregister on A removes it from B.
    @Test func twoInstancesShareOneHistory() async throws {
        let database = try await PostgresServer.start()
        let a = try await RegistryProcess.start(postgres: database.url(database: "registry"), instance: "a")
        let b = try await RegistryProcess.start(postgres: database.url(database: "registry"), instance: "b")
        defer {
            a.stop()
            b.stop()
        }
        let body = #"{"id":"c1","name":"tunnel-1","node":"node-a","network":"tcp","address":"10.0.0.1:80"}"#
        #expect(try await a.call("POST", body: body).status == 200)
        let seen = try await eventually(seconds: 30) {
            try await b.call("GET", query: "?name=tunnel-1").text.contains("\"c1\"")
        }
        #expect(seen, "instance b answers a's register")
        #expect(try await b.call("PUT", body: #"{"id":"c1","name":"tunnel-1","node":"node-a"}"#).status == 200)
        #expect(try await a.call("DELETE", body: #"{"id":"c1","name":"tunnel-1","node":"node-a"}"#).status == 200)
        let gone = try await eventually(seconds: 30) {
            try await b.call("GET", query: "?name=tunnel-1").text == #"{"services":[]}"#
        }
        #expect(gone, "a's deregister removed it from b")
        await database.stop()
    }

    // Proves a bad --postgres URL and an unreachable database stop the start with one clear
    // line naming what failed, and a non-zero exit code.
    @Test func badDatabaseFailsWithOneLine() async throws {
        let badURL = try RegistryProcess.run(postgres: "mysql://nobody@127.0.0.1/x")
        #expect(badURL.status != 0)
        #expect(badURL.stderr.contains("PostgreSQL URL"), "\(badURL.stderr)")
        let port = try freeLoopbackPort()
        let down = try RegistryProcess.run(postgres: "postgres://u:p@127.0.0.1:\(port)/registry?sslmode=disable")
        #expect(down.status != 0)
        #expect(down.stderr.contains("127.0.0.1:\(port)") && down.stderr.contains("registry"), "\(down.stderr)")
        #expect(!down.stderr.contains("p@"), "the password is not printed")
    }
}

/// A `tunnel-registry` process on loopback port 0 with its own data directory; output goes to
/// files, so no reader waits on a pipe another process may hold.
final class RegistryProcess: Sendable {
    let process: Process
    let directory: String
    let httpBase: String

    /// The server binary, built beside the test bundle.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tunnel-registry").path
    }

    private init(process: Process, directory: String, httpBase: String) {
        self.process = process
        self.directory = directory
        self.httpBase = httpBase
    }

    static func start(postgres: String, instance: String) async throws -> RegistryProcess {
        let directory = try makeTemporaryDirectory(prefix: "cluster-\(instance)")
        let process = try launch(
            ["--data-dir", directory + "/data", "--http", "127.0.0.1:0", "--grpc", "off", "--postgres", postgres,
             "--instance", instance, "--lease-ttl", "30s"], directory: directory)
        let ready = await eventually(seconds: 120) {
            let text = (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? ""
            return text.contains("ready after replay") || !process.isRunning
        }
        let text = (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? ""
        guard ready, process.isRunning, let address = text.components(separatedBy: "http listening on ").last?
            .split(separator: "\n").first
        else {
            let stderr = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
            throw HarnessError(description: "tunnel-registry did not start: \(text) \(stderr)")
        }
        return RegistryProcess(process: process, directory: directory, httpBase: "http://\(address)")
    }

    /// Runs the server to its exit (a start that must fail); returns its status and stderr.
    static func run(postgres: String) throws -> (status: Int32, stderr: String) {
        let directory = try makeTemporaryDirectory(prefix: "cluster-fail")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try launch(
            ["--data-dir", directory + "/data", "--http", "127.0.0.1:0", "--grpc", "off", "--postgres", postgres],
            directory: directory)
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "")
    }

    private static func launch(_ arguments: [String], directory: String) throws -> Process {
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

    /// One plugin call on `/sd`.
    func call(_ method: String, query: String = "", body: String? = nil) async throws -> (status: Int, text: String) {
        var request = URLRequest(url: URL(string: httpBase + "/sd" + query)!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
