import Testing

@testable import Registry

@Suite struct SubSecondLeaseTests {
    // Proves a 500 ms lease works on the injected clock: a renew extends it past its first
    // expiry, it lapses 500 ms after the last renew, and the sweeper logs the lapse instant.
    // The sweeper runs after every step, as run() would (a sweep more than a lease late would
    // extend every lease instead).
    @Test func renewExtendsAHalfSecondLease() async throws {
        let harness = try Harness(leaseSeconds: 0.5)
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        try await registry.register(service("a"), peer: peerV4)
        harness.clock.advance(seconds: 0.4)
        #expect(try await registry.sweep() == 0)
        #expect(try await registry.renew(id: "a", name: "tunnel-a", node: "node-1", peer: peerV4) == .renewed)
        let renewedAt = harness.clock.now()
        harness.clock.advance(seconds: 0.4)
        #expect(try await registry.get(name: "tunnel-a").count == 1, "the renew extended the lease")
        #expect(try await registry.sweep() == 0)
        harness.clock.advance(seconds: 0.1)
        #expect(try await registry.get(name: "tunnel-a").isEmpty, "the lease lapsed 500 ms after the renew")
        #expect(try await registry.sweep() == 1)
        #expect(try harness.events().last?.lapsedAtMicroseconds == renewedAt + 500_000)
    }
}
