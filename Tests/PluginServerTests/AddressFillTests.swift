import NIOHTTP1
import SwiftProtobuf
import PluginServer
import Testing

/// Host-less and unspecified addresses are filled with the caller's IP (docs/ARCHITECTURE.md, "Registry semantics").
@Suite struct AddressFillTests {
    @Test(arguments: [":80", "0.0.0.0:80", "[::]:80"])
    func unspecifiedHostBecomesTheCallersIP(address: String) async throws {
        // Proves GOST's `:80` entrypoint (and the unspecified forms) is stored as the caller's IP:80 on both fronts.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "h", name: "t", address: address).status == 200)
        try await withSDClient(port: server.grpcPort) { sd async throws in
            let service = protoService(id: "g", name: "t", node: "n", network: "tcp", address: address)
            #expect(try await sd.register(.with { $0.service = service }).ok)
        }
        let services = try await http.get(name: "t").services
        #expect(Set(services.compactMap { $0["address"] }) == ["127.0.0.1:80"])
        #expect(services.count == 2)
    }

    @Test func explicitHostIsKept() async throws {
        // Proves a real host (IPv4, IPv6, name) is stored unchanged.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        for (id, address) in [("a", "10.1.2.3:8080"), ("b", "[2001:db8::1]:443"), ("c", "edge-1.example.com:80")] {
            #expect(try await http.register(id: id, name: "t", address: address).status == 200)
        }
        let stored = try await http.get(name: "t").services.reduce(into: [String: String]()) {
            $0[$1["id"] ?? ""] = $1["address"]
        }
        #expect(stored == ["a": "10.1.2.3:8080", "b": "[2001:db8::1]:443", "c": "edge-1.example.com:80"])
    }
}
