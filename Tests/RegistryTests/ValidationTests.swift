import Testing

@testable import Registry

@Suite struct ValidationTests {
    // Proves each bad Register is rejected with a message naming the problem.
    @Test(arguments: [
        (service("", address: "1.2.3.4:80"), "id is empty"),
        (service("a", name: ""), "name is empty"),
        (service("a", node: ""), "node is empty"),
        (service("a", network: "sctp"), "network \"sctp\" is not supported"),
        (service("a", network: ""), "network \"\" is not supported"),
        (service("a", address: ""), "address is empty"),
        (service("a", address: "1.2.3.4"), "has no port"),
        (service("a", address: "1.2.3.4:0"), "invalid port"),
        (service("a", address: "1.2.3.4:65536"), "invalid port"),
        (service("a", address: "1.2.3.4:http"), "invalid port"),
        (service("a", address: "1.2.3.4:"), "invalid port"),
        (service("a", address: "80"), "has no port"),
        (service("a", address: "h:８０"), "invalid port"),
        (service("a", address: "::1:80"), "put an IPv6 host in brackets"),
        (service("a", address: "[::1:80"), "no closing ]"),
        (service("a", address: "[::1]80"), "no :port after ]"),
        (service("a", address: "[zz]:80"), "is not an IPv6 address"),
        (service("a", address: "a b:80"), "characters a host name cannot have"),
        (service(String(repeating: "x", count: 257)), "id is 257 bytes long: the limit is 256 bytes"),
        (service("a", name: String(repeating: "é", count: 129)), "name is 258 bytes long"),
        (service("a", node: "n\u{0}1"), "node contains control character U+0000"),
        (service("a\u{7F}"), "id contains control character U+007F"),
        (service("a", name: "t\u{FFFD}"), "invalid UTF-8"),
    ])
    func registerRejects(_ bad: Service, _ message: String) {
        #expect {
            _ = try RequestValidator.validateRegister(bad, peer: peerV4)
        } throws: { error in
            guard case .invalidArgument(let text) = error as? RegistryError else { return false }
            return text.contains(message)
        }
    }

    // Proves Renew and Deregister need id and name, and node is optional but limited.
    @Test func keyValidation() throws {
        try RequestValidator.validateKey(id: "a", name: "t", node: "")
        #expect(throws: RegistryError.self) { try RequestValidator.validateKey(id: "", name: "t", node: "n") }
        #expect(throws: RegistryError.self) { try RequestValidator.validateKey(id: "a", name: "", node: "n") }
        #expect(throws: RegistryError.self) {
            try RequestValidator.validateKey(id: "a", name: "t", node: String(repeating: "n", count: 300))
        }
        #expect(throws: RegistryError.self) { try RequestValidator.validateName("") }
    }

    // Proves host-less and unspecified addresses get the caller's IP (IPv6 in brackets) and
    // every other host is kept as sent.
    @Test(arguments: [
        (":80", Peer(ip: "10.0.0.5", port: 1), "10.0.0.5:80"),
        ("0.0.0.0:80", Peer(ip: "10.0.0.5", port: 1), "10.0.0.5:80"),
        ("[::]:80", Peer(ip: "10.0.0.5", port: 1), "10.0.0.5:80"),
        ("[0:0:0:0:0:0:0:0]:80", Peer(ip: "10.0.0.5", port: 1), "10.0.0.5:80"),
        (":80", Peer(ip: "fd00::5", port: 1), "[fd00::5]:80"),
        ("[::]:8443", Peer(ip: "::1", port: 1), "[::1]:8443"),
        ("192.168.1.9:80", Peer(ip: "10.0.0.5", port: 1), "192.168.1.9:80"),
        ("gost-1.example.com:80", Peer(ip: "10.0.0.5", port: 1), "gost-1.example.com:80"),
        ("[fd00::9]:80", Peer(ip: "10.0.0.5", port: 1), "[fd00::9]:80"),
        ("[2001:db8::1]:443", Peer(ip: "10.0.0.5", port: 1), "[2001:db8::1]:443"),
        (":80", Peer(ip: nil, port: nil), ":80"),
    ])
    func addressFill(_ address: String, _ peer: Peer, _ expected: String) throws {
        let filled = try RequestValidator.validateRegister(service("a", address: address), peer: peer)
        #expect(filled.address == expected)
    }

    // Proves the recorded peer is ip:port, with IPv6 in brackets.
    @Test func peerString() {
        #expect(RequestValidator.peerString(Peer(ip: "10.0.0.5", port: 4000)) == "10.0.0.5:4000")
        #expect(RequestValidator.peerString(Peer(ip: "::1", port: 4000)) == "[::1]:4000")
        #expect(RequestValidator.peerString(Peer(ip: "::1", port: nil)) == "[::1]")
        #expect(RequestValidator.peerString(Peer(ip: nil, port: 5)) == "")
    }
}

@Suite struct ConfigurationTests {
    // Proves settings out of range are refused with the setting named, and defaults pass.
    @Test func configurationValidation() throws {
        var configuration = RegistryConfiguration(dataDirectory: "/tmp/x")
        try configuration.validate()
        configuration.leaseTTLMicroseconds = 500_000
        try configuration.validate()
        configuration.leaseTTLMicroseconds = 99_999
        #expect(throws: RegistryConfigurationError.self) { try configuration.validate() }
        configuration.leaseTTLMicroseconds = 45_000_000
        configuration.sweepIntervalMicroseconds = 5_000_000
        let error = #expect(throws: RegistryConfigurationError.self) { try configuration.validate() }
        #expect(error?.message.contains("sweep interval") == true)
    }

    // Proves sub-second leases down to 100 ms are accepted (the server's --lease-ttl 500ms).
    @Test(arguments: [Int64(100_000), 500_000, 999_999])
    func subSecondLeaseIsAccepted(microseconds: Int64) throws {
        var configuration = RegistryConfiguration(dataDirectory: "/tmp/x")
        configuration.leaseTTLMicroseconds = microseconds
        try configuration.validate()
    }
}
