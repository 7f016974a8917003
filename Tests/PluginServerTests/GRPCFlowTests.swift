import NIOHTTP1
import SwiftProtobuf
import GRPCCore
import PluginServer
import Testing

/// GOST's gRPC plugin flow, and the shared view of both fronts.
@Suite struct GRPCFlowTests {
    @Test func registerGetRenewDeregisterOverGRPC() async throws {
        // Proves the four RPCs of proto.SD answer as GOST expects (ok flags, services list).
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        try await withSDClient(port: server.grpcPort) { sd async throws in
            let service = protoService(id: "c1", name: "tunnel-a", node: "n1", network: "tcp", address: "10.0.0.7:80")
            let registered = try await sd.register(.with { $0.service = service })
            #expect(registered.ok)
            let got = try await sd.get(.with { $0.name = "tunnel-a" })
            #expect(got.services == [service])
            let renewed = try await sd.renew(.with { $0.service = protoService(id: "c1", name: "tunnel-a", node: "n1") })
            #expect(renewed.ok)
            let unknown = try await sd.renew(.with { $0.service = protoService(id: "zz", name: "tunnel-a") })
            #expect(!unknown.ok)
            let gone = try await sd.deregister(.with { $0.service = protoService(id: "c1", name: "tunnel-a") })
            #expect(gone.ok)
            #expect(try await sd.get(.with { $0.name = "tunnel-a" }).services.isEmpty)
        }
    }

    @Test func oversizedFieldIsInvalidArgumentNamingIt() async throws {
        // Proves a gRPC request larger than the HTTP body limit only by one field is refused as
        // INVALID_ARGUMENT naming that field (not a reset stream), and nothing is logged.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let huge = String(repeating: "n", count: 100 << 10)
        try await withSDClient(port: server.grpcPort) { sd async throws in
            for call in ["register", "renew", "deregister"] {
                let service = protoService(id: "c1", name: huge, node: "n1", network: "tcp", address: "10.0.0.7:80")
                do {
                    switch call {
                    case "register": _ = try await sd.register(.with { $0.service = service })
                    case "renew": _ = try await sd.renew(.with { $0.service = service })
                    default: _ = try await sd.deregister(.with { $0.service = service })
                    }
                    Issue.record("\(call) with a 100 KiB name was accepted")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument, "\(call): \(error)")
                    #expect(error.message.contains("name"), "\(call): \(error.message)")
                }
            }
            #expect(await rpcCode { _ = try await sd.get(.with { $0.name = huge }) } == .invalidArgument)
        }
        let metrics = try await HTTPCalls(base: server.httpBase).send(.GET, at: "/metrics").body
        #expect(!metrics.contains(#"tunnel_registry_events_total{kind="register"} 1"#))
    }

    @Test func invalidInputIsInvalidArgument() async throws {
        // Proves validation failures reach a gRPC caller as INVALID_ARGUMENT, never ok.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        try await withSDClient(port: server.grpcPort) { sd async throws in
            let badNetwork = protoService(id: "c1", name: "t", node: "n", network: "sctp", address: "10.0.0.1:80")
            #expect(await rpcCode { _ = try await sd.register(.with { $0.service = badNetwork }) } == .invalidArgument)
            let badAddress = protoService(id: "c1", name: "t", node: "n", network: "tcp", address: "nope")
            #expect(await rpcCode { _ = try await sd.register(.with { $0.service = badAddress }) } == .invalidArgument)
            let noNode = protoService(id: "c1", name: "t", node: "", network: "tcp", address: ":80")
            #expect(await rpcCode { _ = try await sd.register(.with { $0.service = noNode }) } == .invalidArgument)
            #expect(await rpcCode { _ = try await sd.register(.with { _ in }) } == .invalidArgument)
            #expect(await rpcCode { _ = try await sd.get(.with { $0.name = "" }) } == .invalidArgument)
            let longID = protoService(id: String(repeating: "x", count: 300), name: "t")
            #expect(await rpcCode { _ = try await sd.renew(.with { $0.service = longID }) } == .invalidArgument)
            #expect(try await sd.get(.with { $0.name = "t" }).services.isEmpty)
        }
    }

    @Test func bothFrontsShareOneView() async throws {
        // Proves a service registered on one front is visible (and removable) on the other.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "via-http", name: "shared", address: "10.0.0.1:80").status == 200)
        try await withSDClient(port: server.grpcPort) { sd async throws in
            let seen = try await sd.get(.with { $0.name = "shared" })
            #expect(seen.services.map(\.id) == ["via-http"])
            let service = protoService(id: "via-grpc", name: "shared", node: "n2", network: "udp", address: "10.0.0.2:53")
            #expect(try await sd.register(.with { $0.service = service }).ok)
            #expect(try await sd.deregister(.with { $0.service = protoService(id: "via-http", name: "shared") }).ok)
        }
        let services = try await http.get(name: "shared").services
        #expect(services.map { $0["id"] } == ["via-grpc"])
        #expect(services.first?["network"] == "udp")
    }
}
