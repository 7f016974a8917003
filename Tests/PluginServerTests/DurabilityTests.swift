import NIOHTTP1
import SwiftProtobuf
import Foundation
import Synchronization
import Testing

/// Leases, restarts, crashes and a full disk, against the real process and its data directory.
@Suite struct DurabilityTests {
    @Test func leaseExpiresAndRenewRevives() async throws {
        // Proves the binary takes a sub-second --lease-ttl, a service vanishes from Get once its
        // lease lapses, and a Renew (which carries no address) revives it from history. Waits
        // poll for the condition; when the lease ends is decided by the server's clock.
        let server = try await ServerProcess.start(arguments: ["--lease-ttl", "500ms"])
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        let lapsed = try await eventually { try await http.get(name: "t").services.isEmpty }
        #expect(lapsed, "the lease never lapsed")
        let revived = try await eventually {
            guard try await http.renew(id: "a", name: "t").status == 200 else { return false }
            return try await http.get(name: "t").services.first?["address"] == "10.0.0.1:80"
        }
        #expect(revived, "renew did not revive the service with its registered address")
        #expect(try await http.renew(id: "never", name: "t").status == 404)
    }

    @Test func restartKeepsLeases() async throws {
        // Proves services survive a clean restart on the same data directory. (That restored
        // leases get a fresh TTL is proved on an injected clock in RegistryActorTests.)
        let first = try await ServerProcess.start(arguments: ["--lease-ttl", "120s"])
        let directory = first.dataDirectory
        let http = HTTPCalls(base: first.httpBase)
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        #expect(try await http.register(id: "b", name: "t", node: "node-2", address: "10.0.0.2:80").status == 200)
        #expect(try await http.deregister(id: "b", name: "t").status == 200)
        #expect(try await first.stop(signal: SIGTERM).status == 0)

        let second = try await ServerProcess.start(dataDirectory: directory, arguments: ["--lease-ttl", "120s"])
        defer { second.cleanUp() }
        let services = try await HTTPCalls(base: second.httpBase).get(name: "t").services
        #expect(services.map { $0["id"] } == ["a"])
        #expect(services.first?["address"] == "10.0.0.1:80")
    }

    @Test func sigkillDuringLoadLosesNoAcknowledgedEvent() async throws {
        // Proves every Register answered 200 before a SIGKILL is still there after restart.
        let first = try await ServerProcess.start()
        let directory = first.dataDirectory
        let http = HTTPCalls(base: first.httpBase)
        let load = LoadState()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in 0..<2_000 where !load.stopped {
                        let id = "w\(worker)-\(index)"
                        guard let reply = try? await http.register(id: id, name: "load-\(index % 5)", address: "10.0.0.1:80")
                        else { return }
                        if reply.status == 200 { load.acknowledge(id) }
                    }
                }
            }
            // Kill mid-load: once a fair number of registers were acknowledged, however long that takes.
            _ = try await eventually { load.acknowledged.count >= 200 }
            kill(first.process.processIdentifier, SIGKILL)
            load.stop()
            try await group.waitForAll()
        }
        _ = try await first.waitForExit()
        let acked = load.acknowledged
        #expect(acked.count > 10, "the load produced acknowledged registers")

        let second = try await ServerProcess.start(dataDirectory: directory)
        defer { second.cleanUp() }
        let after = HTTPCalls(base: second.httpBase)
        var present = Set<String>()
        for name in 0..<5 {
            for service in try await after.get(name: "load-\(name)").services {
                present.insert(service["id"] ?? "")
            }
        }
        let lost = acked.subtracting(present)
        let lostCount = lost.count
        #expect(lostCount == 0, "lost \(lostCount) of \(acked.count) acknowledged registers, e.g. \(lost.sorted().prefix(5))")
    }

    @Test func fullDiskAnswers503KeepsGetAndRecovers() async throws {
        // Proves a log write failure (file-size limit → EFBIG) is 503 with Get still served, and writes recover.
        // A lease far longer than the fill takes on a busy machine: "keep" must not expire meanwhile.
        let server = try await ServerProcess.start(
            arguments: ["--lease-ttl", "1h"], launcher: ["/usr/bin/prlimit", "--fsize=131072:unlimited", "--"])
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        #expect(try await http.register(id: "keep", name: "t", address: "10.0.0.1:80").status == 200)
        var firstFailure: HTTPReply?
        for index in 0..<4_000 {
            // Random ids compress poorly, so the limit is reached after a bounded number of writes.
            let id = (0..<5).map { _ in UUID().uuidString }.joined()
            let reply = try await http.register(id: id, name: "fill-\(index % 7)", address: "10.0.0.1:80")
            if reply.status != 200 {
                firstFailure = reply
                break
            }
        }
        let failure = try #require(firstFailure, "the file-size limit was never hit")
        #expect(failure.status == 503)
        #expect(failure.error?.isEmpty == false)
        #expect(try await http.get(name: "t").services.map { $0["id"] } == ["keep"])
        #expect(try await http.send(.GET, at: "/healthz").status == 200)

        let raise = Process()
        raise.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        raise.arguments = ["--pid", "\(server.process.processIdentifier)", "--fsize=unlimited:unlimited"]
        try raise.run()
        raise.waitUntilExit()
        try #require(raise.terminationStatus == 0)
        let recovered = try await eventually {
            try await http.register(id: "after", name: "t", address: "10.0.0.2:80").status == 200
        }
        #expect(recovered, "writes did not recover after the limit was lifted")
    }
}

/// What concurrent load workers share: the ids the server acknowledged, and a stop flag.
final class LoadState: Sendable {
    private let ids = Mutex<Set<String>>([])
    private let stopFlag = Atomic<Bool>(false)

    func acknowledge(_ id: String) {
        _ = ids.withLock { $0.insert(id) }
    }

    var acknowledged: Set<String> { ids.withLock { $0 } }

    func stop() {
        stopFlag.store(true, ordering: .relaxed)
    }

    var stopped: Bool { stopFlag.load(ordering: .relaxed) }
}
