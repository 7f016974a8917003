import Registry

/// The benchmark's services: UUID-shaped ids (like GOST's connector ids), four connectors per
/// tunnel name, 200 nodes (UUID-shaped, each with its own entrypoint address), tcp or udp.
struct Workload {
    let count: Int
    private let nodes: [(id: String, address: String)]

    init(count: Int, seed: UInt64 = 9) {
        self.count = count
        var random = SplitMix64(seed: seed)
        nodes = (0..<200).map { index in
            (random.uuid(), "10.0.\(index / 250).\(index % 250 + 1):8443")
        }
    }

    /// Service `index` (deterministic).
    func service(_ index: Int) -> Service {
        var random = SplitMix64(seed: UInt64(index) &* 0x9E37_79B9 &+ 1)
        let node = nodes[index % nodes.count]
        return Service(
            id: random.uuid(), name: "tunnel-\(index / 4)", node: node.id,
            network: index % 8 == 7 ? "udp" : "tcp", address: node.address)
    }

    /// The log payload registering service `index` (decoded, it gives fresh strings as a log does).
    func registerPayload(_ index: Int) -> [UInt8] {
        EventCodec.encode(
            RegistryEvent(
                sequence: 0, timeMicroseconds: 0, kind: .register, service: service(index), peer: "10.9.0.1:5000"))
    }
}

extension SplitMix64 {
    /// A UUID-shaped hex id.
    mutating func uuid() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(36)
        for index in 0..<32 {
            if index == 8 || index == 12 || index == 16 || index == 20 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(hex[Int(next() & 15)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
