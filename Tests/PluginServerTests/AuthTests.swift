import NIOHTTP1
import SwiftProtobuf
import AsyncHTTPClient
import NIOSSL
import Foundation
import GRPCCore
import PluginServer
import Testing

/// Token checks on both fronts, and TLS on both listeners.
@Suite struct AuthTests {
    @Test func tokenIsRequiredOnBothFronts() async throws {
        // Proves a missing or wrong token is 401 / UNAUTHENTICATED and the right one passes.
        let server = try await ServerProcess.start(arguments: ["--token", "s3cret"])
        defer { server.cleanUp() }
        var http = HTTPCalls(base: server.httpBase)
        let missing = try await http.register(id: "a", name: "t", address: "10.0.0.1:80")
        #expect(missing.status == 401)
        #expect(missing.headers["WWW-Authenticate"].first == "Bearer")
        #expect(missing.error?.contains("Bearer") == true)
        http.token = "s3cres"
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 401)
        #expect(try await http.get(name: "t").status == 401)
        http.token = "s3cret-longer"
        #expect(try await http.get(name: "t").status == 401)
        http.token = "s3cret"
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        #expect(try await http.send(.GET, at: "/healthz").status == 200)

        try await withSDClient(port: server.grpcPort) { sd async throws in
            let request = Proto_GetServiceRequest.with { $0.name = "t" }
            #expect(await rpcCode { _ = try await sd.get(request) } == .unauthenticated)
            #expect(await rpcCode { _ = try await sd.get(request, metadata: ["token": "wrong"]) } == .unauthenticated)
            #expect(await rpcCode { _ = try await sd.get(request, metadata: ["authorization": "Bearer s3cret"]) } == .unauthenticated)
            let reply = try await sd.get(request, metadata: ["token": "s3cret"])
            #expect(reply.services.map(\.id) == ["a"])
        }
    }

    @Test func tokenFileIsRead() async throws {
        // Proves --token-file reads the token and trims the trailing newline editors add.
        let directory = try ServerProcess.temporaryDirectory()
        let tokenPath = directory + "/token"
        try "from-file\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        let server = try await ServerProcess.start(dataDirectory: directory + "/data", arguments: ["--token-file", tokenPath])
        defer {
            server.cleanUp()
            try? FileManager.default.removeItem(atPath: directory)
        }
        var http = HTTPCalls(base: server.httpBase)
        #expect(try await http.get(name: "t").status == 401)
        http.token = "from-file"
        #expect(try await http.get(name: "t").status == 200)
    }

    @Test func tlsServesBothListeners() async throws {
        // Proves --tls-cert/--tls-key put HTTPS and gRPC over TLS, as GOST's `tls:` plugin option expects.
        let directory = try ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cert = directory + "/cert.pem"
        let key = directory + "/key.pem"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-keyout", key, "-out", cert,
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)

        let server = try await ServerProcess.start(
            dataDirectory: directory + "/data", arguments: ["--tls-cert", cert, "--tls-key", key]
        )
        defer { server.cleanUp() }
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = .makeClientConfiguration()
        configuration.tlsConfiguration?.certificateVerification = .none
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let https = HTTPCalls(base: "https://\(server.httpAddress ?? "")", client: client)
            #expect(try await https.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
            #expect(try await https.get(name: "t").services.count == 1)
            try await withSDClient(port: server.grpcPort, tls: true) { sd async throws in
                #expect(try await sd.get(.with { $0.name = "t" }).services.map(\.id) == ["a"])
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
