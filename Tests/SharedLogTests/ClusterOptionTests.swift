import Foundation
import Testing

/// The cluster options at the edges: a `--postgres` URL refused while parsing, and the `instance`
/// column of `tunnel-replay events` in text and csv.
@Suite(.serialized) struct ClusterOptionTests {
    // Proves a malformed --postgres URL is refused while the options are parsed: before any
    // listener is bound, with one error line naming the value (password hidden) and the fix.
    @Test(arguments: [
        ("mysql://nobody:hunter2@127.0.0.1/x", "the scheme must be postgres://"),
        ("postgres://u:hunter2@db.example:99999/registry", "port 99999 is out of range"),
        ("postgres://u:hunter2@db.example/registry?sslmode=sometimes", "sslmode=sometimes"),
    ])
    func malformedURLIsRefusedBeforeBinding(url: String, reason: String) async throws {
        let directory = try makeTemporaryDirectory(prefix: "bad-url")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try RegistryProcess.launch(
            ["--data-dir", directory + "/data", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--postgres", url],
            directory: directory)
        _ = await eventually(seconds: 120) { !process.isRunning }
        process.waitUntilExit()
        let stdout = (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
        let firstLine = stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(process.terminationStatus == 64, "a usage error: \(stderr)")
        #expect(!stdout.contains("listening on"), "nothing was bound: \(stdout)")
        #expect(firstLine.contains("--postgres") && firstLine.contains(reason), "\(firstLine)")
        #expect(firstLine.contains("expected postgres://"), "the line says what a valid URL looks like: \(firstLine)")
        #expect(!stderr.contains("hunter2"), "the password is not printed")
        #expect(!FileManager.default.fileExists(atPath: directory + "/data/log"), "nothing was written")
    }

    // Proves `events` in text and csv shows which instance logged each event as its last column,
    // on the shared log and on a data directory exported from it.
    @Test(.enabled(if: PostgresServer.isAvailable)) func eventsListTheInstanceLast() async throws {
        try await withCluster(instances: 2, leaseTTL: "30s") { cluster in
            let (a, b) = (cluster.instances[0], cluster.instances[1])
            #expect(try await a.call("POST", body: Body.register("web", "c1", node: "n1")).status == 200)
            #expect(try await b.call("PUT", body: Body.key("web", "c1", node: "n1")).status == 200)
            let csv = try await runReplay(["events", "--postgres", cluster.url, "--format", "csv"])
            #expect(csv.status == 0, "\(csv.stderr)")
            let lines = csv.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "seq,time,kind,id,name,node,network,address,peer,instance")
            #expect(lines.dropFirst().map { $0.split(separator: ",").last.map(String.init) ?? "" } == ["a", "b"])

            let export = try makeTemporaryDirectory(prefix: "export")
            defer { try? FileManager.default.removeItem(atPath: export) }
            let exported = try await runReplay(["export", "--postgres", cluster.url, "--data-dir", export + "/data"])
            #expect(exported.status == 0, "\(exported.stderr)")
            let text = try await runReplay(["events", "--data-dir", export + "/data"])
            #expect(text.status == 0, "\(text.stderr)")
            let rows = text.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(rows.first?.last == "INSTANCE", "\(text.stdout)")
            #expect(rows.dropFirst().map { $0.last ?? "" } == ["a", "b"], "\(text.stdout)")
        }
    }
}
