import NIOHTTP1
import SwiftProtobuf
import Foundation
import Testing

/// The executable's contract: health, metrics, refusals, CLI options and env vars, shutdown.
@Suite struct OperationsTests {
    @Test func healthReadyAndMetrics() async throws {
        // Proves /healthz and /readyz answer 200 once replayed, and /metrics exposes the documented series.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.send(.GET, at: "/healthz").status == 200)
        let ready = try await http.send(.GET, at: "/readyz")
        #expect(ready.status == 200)
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        #expect(try await http.renew(id: "a", name: "t").status == 200)
        _ = try await http.get(name: "t")
        _ = try await http.get(name: "missing")
        let metrics = try await http.send(.GET, at: "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["Content-Type"].first?.hasPrefix("text/plain") == true)
        for series in [
            #"tunnel_registry_events_total{kind="register"} 1"#,
            #"tunnel_registry_events_total{kind="renew"} 1"#,
            #"tunnel_registry_get_total{result="hit"} 1"#,
            #"tunnel_registry_get_total{result="miss"} 1"#,
            "tunnel_registry_live_services 1",
            "tunnel_registry_commit_duration_seconds_count 2",
            #"tunnel_registry_request_duration_seconds_count{front="http",call="register"} 1"#,
        ] {
            #expect(metrics.body.contains(series), "missing \(series)")
        }
    }

    @Test func nonLoopbackWithoutTokenRefusesToStart() async throws {
        // Proves an exposed listener without a token exits non-zero with a message saying what to do.
        for arguments in [["--http", "0.0.0.0:0"], ["--grpc", "[::]:0", "--http", "off"]] {
            let server = try await ServerProcess.start(arguments: arguments, waitForReady: false)
            defer { server.cleanUp() }
            let (status, bySignal) = try await server.waitForExit()
            #expect(!bySignal)
            #expect(status != 0)
            #expect(server.stderr.contains("without a token"), "stderr: \(server.stderr)")
            #expect(server.stderr.contains("--allow-unauthenticated"))
        }
    }

    @Test func environmentVariablesSetOptionsAndFlagsWin() async throws {
        // Proves TUNNEL_REGISTRY_* variables configure the server and a command-line flag overrides them.
        let directory = try ServerProcess.temporaryDirectory()
        let server = try await ServerProcess.start(
            dataDirectory: directory,
            arguments: ["--token", "from-flag"],
            environment: [
                "TUNNEL_REGISTRY_HTTP": "127.0.0.1:0",
                "TUNNEL_REGISTRY_HTTP_PATH": "/from-env",
                "TUNNEL_REGISTRY_TOKEN": "from-env",
                "TUNNEL_REGISTRY_GRPC": "off",
                "TUNNEL_REGISTRY_LEASE_TTL": "30s",
            ],
            defaultListeners: false,
            waitForReady: false
        )
        defer { server.cleanUp() }
        try await server.waitForOutput("http listening on ")
        try await server.waitForOutput("ready after replay")
        #expect(server.grpcAddress == nil)
        var http = HTTPCalls(base: server.httpBase, path: "/from-env", token: "from-flag")
        #expect(try await http.get(name: "t").status == 200)
        http.token = "from-env"
        #expect(try await http.get(name: "t").status == 401)
        #expect(server.stderr.contains("lease.ttl.us=30000000"))
    }

    @Test func sigtermExitsZeroAfterFinishingWork() async throws {
        // Proves SIGTERM stops the server cleanly with exit status 0.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        let (status, bySignal) = try await server.stop(signal: SIGTERM)
        #expect(!bySignal)
        #expect(status == 0)
        #expect(server.stdout.contains("stopped"))
    }

    @Test(arguments: [
        (["--lease-ttl", "5x"], "--lease-ttl"),
        (["--fsync", "sometimes"], "--fsync"),
        (["--get-order", "random"], "--get-order"),
        (["--http", "nope"], "--http"),
        (["--tls-cert", "/nonexistent"], "--tls-key"),
        (["--token", "a", "--token-file", "/tmp/x"], "--token-file"),
        (["--http", "off", "--grpc", "off"], "enable at least one"),
        (["--log-level", "loud"], "--log-level"),
    ])
    func badOptionValuesExitWithAMessage(arguments: [String], mentions: String) async throws {
        // Proves each unusable option value stops the start with a message naming the option.
        let server = try await ServerProcess.start(arguments: arguments, waitForReady: false)
        defer { server.cleanUp() }
        let (status, _) = try await server.waitForExit()
        #expect(status != 0)
        #expect(server.stderr.contains(mentions), "stderr: \(server.stderr)")
    }

    @Test func helpListsEveryOptionWithItsDefault() async throws {
        // Proves --help documents every option name the README documents and the defaults operators rely on.
        let server = try await ServerProcess.start(arguments: ["--help"], defaultListeners: false, waitForReady: false)
        defer { server.cleanUp() }
        let (status, _) = try await server.waitForExit()
        #expect(status == 0)
        let help = server.stdout
        for option in [
            "--data-dir", "--http", "--http-path", "--grpc", "--token", "--token-file", "--tls-cert", "--tls-key",
            "--lease-ttl", "--fsync", "--segment-size", "--log-level", "--log-format", "--version",
            "--allow-unauthenticated", "--get-order",
            "./data", "127.0.0.1:8080", "127.0.0.1:8000", "45s", "/sd", "TUNNEL_REGISTRY_",
        ] {
            #expect(help.contains(option), "help lacks \(option)")
        }
    }
}
