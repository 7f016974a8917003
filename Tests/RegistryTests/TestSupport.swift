import EventLog
import FileStore
import Foundation
import Logging
import Synchronization

@testable import Registry

/// A clock tests move by hand (wall-clock microseconds).
final class ManualClock: Sendable {
    private let value: Mutex<Int64>

    init(_ start: Int64 = 1_800_000_000_000_000) {
        value = Mutex(start)
    }

    func now() -> Int64 { value.withLock { $0 } }

    func advance(seconds: Double) {
        value.withLock { $0 += Int64(seconds * 1_000_000) }
    }

    var closure: @Sendable () -> Int64 { { self.now() } }
}

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("registry-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

let quietLogger = Logger(label: "registry.tests", factory: { _ in SwiftLogNoOpLogHandler() })

let peerV4 = Peer(ip: "10.0.0.5", port: 40_000)

func service(
    _ id: String, name: String = "tunnel-a", node: String = "node-1",
    network: String = "tcp", address: String = "10.1.1.1:80"
) -> Service {
    Service(id: id, name: name, node: node, network: network, address: address)
}

/// An event for folding by hand.
func event(
    _ sequence: UInt64, at seconds: Double, _ kind: EventKind, id: String = "", name: String = "tunnel-a",
    node: String = "node-1", network: String = "", address: String = "", lapsedAt: Int64? = nil, ttl: Int64? = nil
) -> RegistryEvent {
    RegistryEvent(
        sequence: sequence, timeMicroseconds: Int64(seconds * 1_000_000), kind: kind,
        service: Service(id: id, name: name, node: node, network: network, address: address), peer: "",
        lapsedAtMicroseconds: lapsedAt, leaseTTLMicroseconds: ttl)
}

func micros(_ seconds: Double) -> Int64 { Int64(seconds * 1_000_000) }

/// A registry on an in-memory store with a manual clock, seeded shuffles, and snapshots in a
/// temporary directory.
struct Harness {
    let clock: ManualClock
    let store: InMemoryEventStore
    let directory: TemporaryDirectory
    var configuration: RegistryConfiguration

    init(leaseSeconds: Double = 45, seed: UInt64 = 7) throws {
        clock = ManualClock()
        store = InMemoryEventStore(clock: clock.closure)
        directory = try TemporaryDirectory()
        configuration = RegistryConfiguration(dataDirectory: directory.path)
        configuration.leaseTTLMicroseconds = micros(leaseSeconds)
        configuration.clock = clock.closure
        configuration.randomSeed = seed
    }

    /// Opens a registry on the store (again after a close, like a restart on the same directory).
    func open() async throws -> Registry {
        try await store.recover()
        return try await Registry.open(configuration, store: store, snapshots: snapshots, logger: quietLogger)
    }

    /// The harness's snapshots, in `DIR/snapshots` as the server keeps them.
    var snapshots: SnapshotStore { SnapshotStore(directory: configuration.snapshotDirectory) }

    /// The decoded records appended so far.
    func events() throws -> [RegistryEvent] {
        try store.records.map(EventCodec.decode)
    }

    /// Advances the clock in one-second steps, sweeping after each, as `run()` would.
    func advance(seconds: Int, sweeping registry: Registry) async throws {
        for _ in 0..<seconds {
            clock.advance(seconds: 1)
            try await registry.sweep()
        }
    }
}
