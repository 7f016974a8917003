import Registry

extension SplitMix64 {
    /// Uniform in 0..<bound.
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound \(bound)")
        return Int(next() % UInt64(bound))
    }
}

/// A long synthetic history for benchmarks: `connectors` live connectors renewing every 15 s,
/// one commit per simulated second, with reconnects, partitions (expire then revive) and node
/// crashes (expiries, then reconnects through a restarted node with a new id).
struct BenchHistory {
    static let renewPeriodSeconds = 15
    static let leaseTTLSeconds: Int64 = 45
    static let nodesMax = 8

    private struct Connector {
        var service: Service
        var nodeIndex: Int
        /// Seconds until its renews resume (a partition), 0 when renewing normally.
        var silentUntil: Int = 0
        var lastRenewSecond: Int
        var expired = false
    }

    private var random: SplitMix64
    private var connectors: [Connector] = []
    private var nodeNames: [String]
    private var nodeCrashedAt: [Int?]
    private var nextConnectorNumber = 0
    private var second = 0
    private let originMicroseconds: Int64

    init(connectors count: Int, seed: UInt64, originMicroseconds: Int64) {
        precondition(count > 0 && count <= 1_000_000, "connectors \(count)")
        random = SplitMix64(seed: seed)
        self.originMicroseconds = originMicroseconds
        nodeNames = (0..<Self.nodesMax).map { "node-\($0)-gen0" }
        nodeCrashedAt = Array(repeating: nil, count: Self.nodesMax)
        for index in 0..<count {
            connectors.append(makeConnector(name: "tunnel-\(index)", nodeIndex: index % Self.nodesMax))
        }
    }

    private mutating func makeConnector(name: String, nodeIndex: Int) -> Connector {
        nextConnectorNumber += 1
        let id = "c\(nextConnectorNumber)-\(String(random.next() & 0xFFFF_FFFF, radix: 16))"
        let service = Service(
            id: id,
            name: name,
            node: nodeNames[nodeIndex],
            network: "tcp",
            address: "10.1.0.\(nodeIndex + 1):443"
        )
        return Connector(service: service, nodeIndex: nodeIndex, lastRenewSecond: second)
    }

    /// The time of the current second.
    var nowMicroseconds: Int64 { originMicroseconds + Int64(second) * 1_000_000 }

    /// The start record and every connector's Register (second 0).
    mutating func opening() -> [RegistryEvent] {
        var events = [event(.start, Service(id: "", name: "", node: "", network: "", address: ""), peer: "")]
        events[0].leaseTTLMicroseconds = Self.leaseTTLSeconds * 1_000_000
        for connector in connectors { events.append(event(.register, connector.service, peer: peer(connector))) }
        return events
    }

    /// Advances one second and returns what the registry logged in it.
    mutating func nextSecond() -> [RegistryEvent] {
        second += 1
        var events: [RegistryEvent] = []
        maybeCrashANode()
        for index in connectors.indices where index % Self.renewPeriodSeconds == second % Self.renewPeriodSeconds {
            step(index, into: &events)
        }
        for _ in 0..<max(connectors.count / 2000, 1) {
            reconnect(random.below(connectors.count), into: &events)
        }
        return events
    }

    private mutating func step(_ index: Int, into events: inout [RegistryEvent]) {
        var connector = connectors[index]
        let lapsed = second - connector.lastRenewSecond > Int(Self.leaseTTLSeconds)
        if nodeCrashedAt[connector.nodeIndex] != nil || connector.silentUntil > second {
            if lapsed && !connector.expired {
                events.append(expire(connector))
                connector.expired = true
                if nodeCrashedAt[connector.nodeIndex] != nil {
                    // The tunnel client reconnects through another node.
                    let other = (connector.nodeIndex + 1) % Self.nodesMax
                    connectors[index] = makeConnector(name: connector.service.name, nodeIndex: other)
                    events.append(event(.register, connectors[index].service, peer: peer(connectors[index])))
                    return
                }
            }
            connectors[index] = connector
            return
        }
        if lapsed && !connector.expired { events.append(expire(connector)) }
        connector.expired = false
        connector.lastRenewSecond = second
        if random.below(20_000) == 0 { connector.silentUntil = second + 70 }
        connectors[index] = connector
        var call = connector.service
        call.network = ""
        call.address = ""
        events.append(event(.renew, call, peer: peer(connector)))
    }

    private mutating func reconnect(_ index: Int, into events: inout [RegistryEvent]) {
        let old = connectors[index]
        guard nodeCrashedAt[old.nodeIndex] == nil, old.silentUntil <= second else { return }
        var call = old.service
        call.network = ""
        call.address = ""
        events.append(event(.deregister, call, peer: peer(old)))
        connectors[index] = makeConnector(name: old.service.name, nodeIndex: old.nodeIndex)
        events.append(event(.register, connectors[index].service, peer: peer(connectors[index])))
    }

    /// About once every 10 simulated minutes a node crashes; it restarts 60 s later with a new id.
    private mutating func maybeCrashANode() {
        for node in nodeCrashedAt.indices {
            if let crashed = nodeCrashedAt[node], second - crashed >= 60 {
                nodeCrashedAt[node] = nil
                nodeNames[node] = "node-\(node)-gen\(second)"
            }
        }
        if random.below(600) == 0 {
            let node = random.below(Self.nodesMax)
            if nodeCrashedAt[node] == nil { nodeCrashedAt[node] = second }
        }
    }

    private func expire(_ connector: Connector) -> RegistryEvent {
        var lapse = event(.expire, connector.service, peer: "")
        lapse.lapsedAtMicroseconds =
            originMicroseconds + (Int64(connector.lastRenewSecond) + Self.leaseTTLSeconds) * 1_000_000
        return lapse
    }

    private func peer(_ connector: Connector) -> String {
        "10.1.0.\(connector.nodeIndex + 1):\(40000 + connector.nodeIndex)"
    }

    private func event(_ kind: EventKind, _ service: Service, peer: String) -> RegistryEvent {
        RegistryEvent(sequence: 0, timeMicroseconds: nowMicroseconds, kind: kind, service: service, peer: peer)
    }
}
