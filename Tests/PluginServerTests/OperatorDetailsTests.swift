import Foundation
import GRPCCore
import NIOHTTP1
import PluginServer
import Registry
import SwiftProtobuf
import Testing

/// Details users hit: metrics metadata and docs, the 404 of a renew after a deregister,
/// DELETE's error message, and one set of field limits on both fronts.
@Suite struct OperatorDetailsTests {
    /// README.md at the repository root.
    static var readme: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
    }

    @Test func everyMetricHasHelpAndTypeAndIsInTheReadme() async throws {
        // Proves each metric family on /metrics has # HELP and # TYPE lines and a README row,
        // and every documented help text belongs to a family the README lists.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        _ = try await http.get(name: "t")
        let text = try await http.send(.GET, at: "/metrics").body
        let lines = text.split(separator: "\n")
        let typed = Set(
            lines.filter { $0.hasPrefix("# TYPE ") }.compactMap { $0.split(separator: " ").dropFirst(2).first }
        )
        let helped = Set(
            lines.filter { $0.hasPrefix("# HELP ") }.compactMap { $0.split(separator: " ").dropFirst(2).first }
        )
        #expect(typed.count >= 8, "too few families: \(typed)")
        for line in lines where !line.hasPrefix("#") {
            let series = line.prefix { $0 != "{" && $0 != " " }
            let family = typed.first {
                series == $0 || series == $0 + "_bucket" || series == $0 + "_sum" || series == $0 + "_count"
            }
            #expect(family != nil, "\(series) has no # TYPE line")
        }
        #expect(typed == helped, "families without # HELP: \(typed.subtracting(helped))")
        let readme = Self.readme
        for family in typed.union(MetricsHelp.text.keys.map { Substring($0) }) {
            #expect(readme.contains("`\(family)"), "README lacks \(family)")
        }
    }

    @Test func renewAfterDeregisterIsNotRegistered() async throws {
        // Proves a renew after a deregister answers 404 with the "not registered" message over
        // HTTP, and ok: false over gRPC.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        #expect(try await http.deregister(id: "a", name: "t").status == 200)
        let reply = try await http.renew(id: "a", name: "t")
        #expect(reply.status == 404)
        #expect(
            reply.error?.hasPrefix("not registered (never registered, deregistered or expired and forgotten)") == true,
            "\(reply.body)"
        )
        try await withSDClient(port: server.grpcPort) { sd in
            _ = try await sd.register(
                .with { $0.service = protoService(id: "g", name: "t", network: "tcp", address: ":80") }
            )
            _ = try await sd.deregister(.with { $0.service = protoService(id: "g", name: "t") })
            #expect(try await sd.renew(.with { $0.service = protoService(id: "g", name: "t") }).ok == false)
        }
    }

    @Test(arguments: ["DELETE", "PUT"])
    func malformedKeyCallNamesOnlyIdAndName(method: String) async throws {
        // Proves a malformed DELETE or PUT body is answered with an example of only the fields
        // that call needs (id, name), not Register's network and address.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        for body in [#"{"id":"a","name":"#, #"{"id":5,"name":"t"}"#, ""] {
            let reply = try await http.send(.init(rawValue: method), body: Array(body.utf8))
            #expect(reply.status == 400)
            let message = reply.error ?? ""
            #expect(message.contains("id") && message.contains("name"), "\(message)")
            #expect(!message.contains("network") && !message.contains("address"), "\(message)")
        }
        let missing = try await http.send(.init(rawValue: method), body: Array(#"{"id":"a"}"#.utf8))
        #expect(missing.error?.hasPrefix("name is empty") == true, "\(missing.body)")
    }

    @Test func bothFrontsApplyTheRegistryFieldLimits() async throws {
        // Proves HTTP and gRPC refuse an over-long field with the registry's own rule and
        // message (RequestValidator.fieldBytesMax), and accept one at the limit.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        let limit = RequestValidator.fieldBytesMax
        let atLimit = String(repeating: "x", count: limit)
        let over = String(repeating: "x", count: limit + 1)
        let expected = "id is \(limit + 1) bytes long: the limit is \(limit) bytes"
        #expect(try await http.register(id: atLimit, name: "t", address: "10.0.0.1:80").status == 200)
        let refused = try await http.register(id: over, name: "t", address: "10.0.0.1:80")
        #expect(refused.status == 400)
        #expect(refused.error == expected)
        try await withSDClient(port: server.grpcPort) { sd in
            do {
                _ = try await sd.register(
                    .with { $0.service = protoService(id: over, name: "t", network: "tcp", address: ":80") }
                )
                Issue.record("gRPC accepted an id over the limit")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.message == expected)
            }
        }
    }
}
