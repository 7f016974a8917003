import EventLog
import FileStore
import Testing

@testable import Registry

/// Bytes on disk per event for the reference workload, through the Registry on the real log.
@Suite struct WorkloadFigureTests {
    // Measures (and bounds) bytes on disk per event: 2,000 connectors of 200 tunnels on 4 nodes
    // register, then renew 5 times from 64 concurrent callers; active segment, then sealed.
    @Test func referenceWorkloadBytesPerEvent() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = RegistryConfiguration(dataDirectory: directory.path + "/data")
        configuration.randomSeed = 5
        // A clock that stands still: on a busy machine the workload can outlast a lease, and an
        // expire or revive would change the event count this figure is measured on.
        configuration.clock = ManualClock().closure
        let registry = try await Registry.open(configuration, logger: quietLogger)
        var random = RegistryRandom(seed: 8)
        let nodes = (0..<4).map { _ in Self.uuid(&random) }
        let tunnels = (0..<200).map { _ in Self.uuid(&random) }
        let connectors = (0..<2_000).map { index in
            Service(
                id: Self.uuid(&random), name: tunnels[index % 200], node: nodes[index % 4], network: "tcp",
                address: ":80")
        }
        let callers = 64
        for round in 0..<6 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<callers {
                    group.addTask {
                        let peer = Peer(ip: "10.0.0.\(caller % 4 + 1)", port: 50_000 + caller)
                        for connector in stride(from: caller, to: connectors.count, by: callers).map({ connectors[$0] })
                        {
                            if round == 0 {
                                try await registry.register(connector, peer: peer)
                            } else {
                                _ = try await registry.renew(
                                    id: connector.id, name: connector.name, node: connector.node, peer: peer)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let events = await registry.currentProjection.lastSequence
        try await registry.close()
        let logDirectory = configuration.logDirectory
        let activeBytes = try EventLogReader(directory: logDirectory).segments().reduce(0) { $0 + $1.bytes }

        let writer = try await EventLogWriter.open(
            EventLogConfiguration(directory: logDirectory), logger: quietLogger,
            clock: { SystemClock.wallClockMicroseconds() })
        try await writer.rotate()
        await writer.waitForSealing()
        try await writer.close()
        let sealedBytes = try EventLogReader(directory: logDirectory).segments().reduce(0) { $0 + $1.bytes }
        let active = Double(activeBytes) / Double(events)
        let sealed = Double(sealedBytes) / Double(events)
        print("workload: \(events) events, \(active) B/event on disk as written, \(sealed) B/event after sealing")
        #expect(events == 12_001)
        #expect(sealed < 10)
    }

    static func uuid(_ generator: inout RegistryRandom) -> String {
        let hex = (0..<32).map { _ in String(generator.next() % 16, radix: 16) }.joined()
        return [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
            hex.dropFirst(20),
        ]
        .joined(separator: "-")
    }
}
