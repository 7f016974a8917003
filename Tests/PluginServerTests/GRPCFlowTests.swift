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
