import Foundation
import NIOHTTP1
import Testing

/// `--lease-ttl` below the sweeper's usual pause (README.md's own example, `500ms`) on the real
/// server: leases lapse instead of being extended at every sweep.
@Suite struct ShortLeaseTests {
    @Test func halfSecondLeaseLapsesAndIsSweptAsExpire() async throws {
        // Proves a 500 ms lease that is not renewed disappears from Get and is logged as an expire,
        // rather than every sweep counting as a stall that extends every lease forever.
        let server = try await ServerProcess.start(arguments: ["--lease-ttl", "500ms"])
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "a", name: "short", address: "10.0.0.1:80").status == 200)
        let lapsed = try await eventually {
            try await http.get(name: "short").services.isEmpty
        }
        #expect(lapsed, "Get still answers the service long after its 500 ms lease; log: \(server.stderr)")
        let swept = try await eventually {
            try await http.send(.GET, at: "/metrics").body.contains(#"tunnel_registry_log_records_total{kind="expire"} 1"#)
        }
        #expect(swept, "no expire record was folded for the lapsed lease")
    }

    @Test func halfSecondLeaseRevivesOnRenewAfterItLapsed() async throws {
        // Proves a Renew after a 500 ms lease lapsed revives it from its last address (it was never
        // deregistered), so the service is back in Get.
        let server = try await ServerProcess.start(arguments: ["--lease-ttl", "500ms"])
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "a", name: "short", address: "10.0.0.1:80").status == 200)
        let lapsed = try await eventually { try await http.get(name: "short").services.isEmpty }
        #expect(lapsed, "the 500 ms lease never lapsed")
        #expect(try await http.renew(id: "a", name: "short").status == 200)
        let services = try await http.get(name: "short").services
        // The revived lease may lapse again before the Get on a very busy machine; when it is
        // there, it carries the registered address.
        #expect(services.allSatisfy { $0["address"] == "10.0.0.1:80" })
    }
}
