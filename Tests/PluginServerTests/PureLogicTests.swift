import Registry
import Testing

@testable import PluginServer

/// The pure pieces of the fronts, tested without I/O.
@Suite struct PureLogicTests {
    @Test func listenAddressesAndLoopback() throws {
        // Proves --http/--grpc parsing, `off`, and which hosts count as loopback.
        #expect(try ListenAddress.parse("off", option: "--http") == nil)
        #expect(try ListenAddress.parse("127.0.0.1:8080", option: "--http")?.isLoopback == true)
        #expect(try ListenAddress.parse("[::1]:8000", option: "--grpc")?.isLoopback == true)
        #expect(try ListenAddress.parse("localhost:1", option: "--grpc")?.isLoopback == true)
        #expect(try ListenAddress.parse("0.0.0.0:8080", option: "--http")?.isLoopback == false)
        #expect(try ListenAddress.parse("10.0.0.1:8080", option: "--http")?.isLoopback == false)
        #expect(throws: ConfigurationError.self) { try ListenAddress.parse(":8080", option: "--http") }
        #expect(throws: ConfigurationError.self) { try ListenAddress.parse("127.0.0.1", option: "--http") }
    }

    @Test func tokenComparison() {
        // Proves the constant-time comparison accepts only the exact token, and the bearer form.
        let check = TokenCheck(token: "s3cret")
        #expect(check.matches("s3cret".utf8))
        #expect(!check.matches("s3cre".utf8))
        #expect(!check.matches("s3cret!".utf8))
        #expect(!check.matches("".utf8))
        #expect(check.matchesBearer("Bearer s3cret"))
        #expect(check.matchesBearer("bearer s3cret"))
        #expect(!check.matchesBearer("Basic s3cret"))
        #expect(!check.matchesBearer("Bearer s3cret "))
        #expect(!check.matchesBearer(nil))
    }

    @Test func grpcPeerParsing() {
        // Proves grpc-swift's remotePeer strings become the caller's IP and port.
        #expect(GRPCPeer.parse("ipv4:127.0.0.1:53434") == Peer(ip: "127.0.0.1", port: 53434))
        #expect(GRPCPeer.parse("ipv6:[::1]:5000") == Peer(ip: "::1", port: 5000))
        #expect(GRPCPeer.parse("unix:/tmp/sock") == Peer(ip: nil, port: nil))
    }

    @Test func jsonQuotingEscapes() {
        // Proves reply strings are valid JSON whatever the stored text holds.
        #expect(WireJSON.quote("a\"b\\c\n\u{01}é") == #""a\"b\\c\n\u0001é""#)
    }

    @Test func configurationRefusesExposedListenersWithoutToken() throws {
        // Proves the non-loopback rule: refused without token, allowed with one or with the explicit flag.
        var configuration = PluginServerConfiguration()
        configuration.http = ListenAddress(host: "0.0.0.0", port: 8080)
        #expect(throws: ConfigurationError.self) { try configuration.validate(allowUnauthenticated: false) }
        try configuration.validate(allowUnauthenticated: true)
        configuration.token = "t"
        try configuration.validate(allowUnauthenticated: false)
    }
}
