import Registry

/// The payload the registry writes for a service event: `EventCodec.encode`, the registry's
/// own codec, so the figures hold for the bytes a real registry appends. Sequence and time stay
/// zero: the log's commit header carries those, not the payload.
func encodeServiceEvent(
    _ kind: EventKind, id: String, name: String, node: String, network: String, address: String, peer: String
) -> [UInt8] {
    EventCodec.encode(
        RegistryEvent(
            sequence: 0, timeMicroseconds: 0, kind: kind,
            service: Service(id: id, name: name, node: node, network: network, address: address), peer: peer))
}

/// The reference workload: 2,000 connectors over 200 tunnels on 4 nodes. Each connector renews
/// every 15 s at its own phase, with ±200 ms of jitter per renew (so the order of renews drifts
/// from one round to the next as it does in a real registry); about 1 in 100 events is a
/// reconnect (deregister of one connector, register of a new id for the same tunnel and node).
struct ReferenceWorkload {
    private var random: SplitMix64
    private let tunnels: [String]
    private let nodes: [String]
    private let nodeAddresses: [String]
    private let nodePeers: [String]
    private var connectors: [(id: String, tunnel: Int, node: Int)] = []
    private var phases: [Double] = []
    private var round: [Int] = []
    private var cursor = 0
    private var pendingRegister: (id: String, tunnel: Int, node: Int)?

    static let connectorCount = 2_000
    static let tunnelCount = 200
    static let nodeCount = 4

    init(seed: UInt64 = 0x5EED) {
        var random = SplitMix64(seed: seed)
        var tunnels: [String] = []
        for _ in 0..<Self.tunnelCount { tunnels.append(Self.uuid(&random)) }
        var nodes: [String] = []
        for _ in 0..<Self.nodeCount { nodes.append(Self.uuid(&random)) }
        self.tunnels = tunnels
        self.nodes = nodes
        nodeAddresses = (0..<Self.nodeCount).map { "192.0.2.\(10 + $0):80" }
        nodePeers = (0..<Self.nodeCount).map { "192.0.2.\(10 + $0):\(40_000 + $0 * 7)" }
        for index in 0..<Self.connectorCount {
            connectors.append(
                (Self.uuid(&random), index % Self.tunnelCount, Int.random(in: 0..<Self.nodeCount, using: &random)))
        }
        phases = (0..<Self.connectorCount).map { _ in Double(random.next() % 15_000) }
        self.random = random
    }

    /// The order of the next renew round: each connector's phase plus jitter, sorted.
    private mutating func nextRound() -> [Int] {
        var keyed: [(Double, Int)] = []
        keyed.reserveCapacity(phases.count)
        for (index, phase) in phases.enumerated() {
            keyed.append((phase + Double(random.next() % 401) - 200, index))
        }
        return keyed.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// A UUID-like id: 36 characters of lowercase hex and dashes.
    static func uuid(_ random: inout SplitMix64) -> String {
        let hex = Array("0123456789abcdef")
        var characters: [Character] = []
        for index in 0..<32 {
            if [8, 12, 16, 20].contains(index) { characters.append("-") }
            characters.append(hex[Int(random.next() & 15)])
        }
        return String(characters)
    }

    /// The registers that bring every connector up, in order.
    func initialRegisters() -> [[UInt8]] {
        connectors.map { register($0) }
    }

    private func register(_ connector: (id: String, tunnel: Int, node: Int)) -> [UInt8] {
        encodeServiceEvent(
            .register, id: connector.id, name: tunnels[connector.tunnel], node: nodes[connector.node],
            network: "tcp", address: nodeAddresses[connector.node], peer: nodePeers[connector.node])
    }

    /// The next event of the steady state.
    mutating func next() -> [UInt8] {
        if let connector = pendingRegister {
            pendingRegister = nil
            return register(connector)
        }
        if cursor == round.count {
            round = nextRound()
            cursor = 0
        }
        let index = round[cursor]
        cursor += 1
        let connector = connectors[index]
        if random.next() % 100 == 0 {
            let replacement = (Self.uuid(&random), connector.tunnel, connector.node)
            connectors[index] = replacement
            pendingRegister = replacement
            return encodeServiceEvent(
                .deregister, id: connector.id, name: tunnels[connector.tunnel], node: nodes[connector.node],
                network: "", address: "", peer: nodePeers[connector.node])
        }
        return encodeServiceEvent(
            .renew, id: connector.id, name: tunnels[connector.tunnel], node: nodes[connector.node],
            network: "", address: "", peer: nodePeers[connector.node])
    }

    /// `count` events: the initial registers, then the steady state.
    mutating func events(_ count: Int) -> [[UInt8]] {
        var events = Array(initialRegisters().prefix(count))
        while events.count < count { events.append(next()) }
        return events
    }
}
