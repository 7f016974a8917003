import Registry

@testable import tunnel_replay

/// Hand-built event arrays for the pure tests: times in whole seconds, sequences from 1.
struct EventScript {
    private(set) var events: [RegistryEvent] = []

    static func seconds(_ value: Double) -> Int64 { Int64(value * 1_000_000) }

    mutating func add(
        _ kind: EventKind,
        _ id: String,
        _ name: String,
        node: String = "n1",
        at time: Double,
        lapsedAt: Double? = nil,
        network: String = "tcp",
        address: String = "10.0.0.1:80"
    ) {
        let isCall = kind == .renew || kind == .deregister
        events.append(
            RegistryEvent(
                sequence: UInt64(events.count + 1),
                timeMicroseconds: Self.seconds(time),
                kind: kind,
                service: Service(
                    id: id,
                    name: name,
                    node: node,
                    network: isCall ? "" : network,
                    address: isCall ? "" : address
                ),
                peer: kind == .expire ? "" : "10.0.0.1:4000",
                lapsedAtMicroseconds: lapsedAt.map(Self.seconds)
            )
        )
    }
}

extension Array where Element == RegistryEvent {
    /// The fixture history with the sequences the log assigns (one commit per event, from 1).
    static func fixtureHistory() -> [RegistryEvent] {
        FixtureHistory.events().enumerated().map { index, event in
            var logged = event
            logged.sequence = UInt64(index + 1)
            return logged
        }
    }
}

/// Seconds after the fixture history's origin.
func fixtureSeconds(_ seconds: Double) -> Int64 {
    FixtureHistory.origin + Int64(seconds * 1_000_000)
}
