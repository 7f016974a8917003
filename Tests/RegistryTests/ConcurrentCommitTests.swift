import Testing

@testable import Registry

@Suite struct ConcurrentCommitTests {
    // Proves concurrent mutations, whose appends the log groups into shared commits, each get their
    // own outcome: renews of registered services answer renewed, of unknown ones notFound, all logged.
    @Test func concurrentRenewsEachGetTheirOwnOutcome() async throws {
        let harness = try Harness()
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        for index in 0..<50 { try await registry.register(service("s\(index)"), peer: peerV4) }
        let outcomes = try await withThrowingTaskGroup(of: (Int, RenewOutcome).self) { group in
            for index in 0..<200 {
                group.addTask {
                    let id = index % 2 == 0 ? "s\(index / 4)" : "unknown\(index)"
                    return (index, try await registry.renew(id: id, name: "tunnel-a", node: "node-1", peer: peerV4))
                }
            }
            var outcomes: [Int: RenewOutcome] = [:]
            for try await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
        for index in 0..<200 {
            #expect(outcomes[index] == (index % 2 == 0 ? .renewed : .notFound), "renew \(index)")
        }
        let events = try harness.events()
        #expect(events.count == 1 + 50 + 200)
        #expect(events.map(\.sequence) == Array(1...UInt64(events.count)))
        #expect(await registry.currentProjection.lastSequence == UInt64(events.count))
    }

    // Proves concurrent mutations during a write failure are each answered unavailable, none is
    // logged, and the registry takes mutations again once the log is writable.
    @Test func failedBatchAnswersEveryMutationUnavailable() async throws {
        var harness = try Harness()
        harness.configuration.recoveryIntervalMicroseconds = 0
        defer { harness.directory.remove() }
        let registry = try await harness.open()
        try await registry.register(service("a"), peer: peerV4)
        harness.store.setFailure("disk full")
        let failures = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    do {
                        _ = try await registry.renew(id: "a", name: "tunnel-a", node: "node-1", peer: peerV4)
                        return false
                    } catch RegistryError.unavailable {
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var count = 0
            for await failed in group where failed { count += 1 }
            return count
        }
        #expect(failures == 20)
        #expect(try harness.events().map(\.kind) == [.start, .register])
        harness.store.setFailure(nil)
        #expect(try await registry.renew(id: "a", name: "tunnel-a", node: "node-1", peer: peerV4) == .renewed)
    }
}
