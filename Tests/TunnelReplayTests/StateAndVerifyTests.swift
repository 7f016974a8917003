import Foundation
import Registry
import Testing

@testable import tunnel_replay

/// `state` against the server's own projection, and `verify` against planted damage.
@Suite struct StateAndVerifyTests {
    let healthy = ToolRunner.fixture("healthy")

    /// Instants around every change in the fixture history (seconds after its origin).
    static let instants: [Double] = [
        0, 0.5, 1.5, 60, 105.9, 106, 106.2, 107.7, 119, 122.9, 123.2, 130, 138, 150, 205.5, 229, 235, 250, 251, 300,
        335, 399, 400, 400.5, 445, 450, 500,
    ]

    /// What Get held at `seconds`: the scripted history folded by the Registry's `Projection`.
    private func projected(at seconds: Double) -> [String] {
        var projection = Projection()
        for event in [RegistryEvent].fixtureHistory() where event.timeMicroseconds <= fixtureSeconds(seconds) {
            projection.apply(event)
        }
        return projection.liveServices(at: fixtureSeconds(seconds)).map(Self.describe).sorted()
    }

    private static func describe(_ live: LiveService) -> String {
        "\(live.service.id) \(live.service.name) \(live.service.node) \(live.service.network) \(live.service.address)"
            + " \(Timestamp.format(live.registeredAtMicroseconds)) \(Timestamp.format(live.lastRenewAtMicroseconds))"
    }

    private func state(_ arguments: [String]) throws -> [String] {
        let output = try ToolRunner.run(["state", "--format", "json", "--data-dir", healthy] + arguments)
        #expect(output.status == 0, "\(arguments): \(output.stderr)")
        return output.jsonLines.map { row in
            ["id", "name", "node", "network", "address", "registered", "last_renew"]
                .map { "\(row[$0] ?? "?")" }.joined(separator: " ")
        }.sorted()
    }

    // Proves state --at equals the projection the server held, at every interesting instant,
    // with and without the snapshot.
    @Test(arguments: instants)
    func stateAtEqualsProjection(seconds: Double) throws {
        let instant = Timestamp.format(fixtureSeconds(seconds))
        let expected = projected(at: seconds)
        #expect(try state(["--at", instant]) == expected)
        #expect(try state(["--at", instant, "--no-snapshots"]) == expected)
    }

    // Proves state without --at answers for now (pinned by TUNNEL_REPLAY_NOW), as --at now would.
    @Test func stateWithoutAtMeansNow() throws {
        let now = Timestamp.format(fixtureSeconds(420))
        let implicit = try ToolRunner.run(
            ["state", "--format", "json", "--data-dir", healthy], environment: ["TUNNEL_REPLAY_NOW": now])
        #expect(implicit.status == 0, "\(implicit.stderr)")
        #expect(!implicit.jsonLines.isEmpty)
        #expect(implicit.stdout == (try ToolRunner.run(["state", "--format", "json", "--data-dir", healthy, "--at", now])).stdout)
        #expect(implicit.jsonLines.count == projected(at: 420).count)
    }

    // Proves state agrees with sessions: the live services at an instant within the log are the
    // sessions covering it (after the log's end, `live` sessions have no recorded end).
    @Test func stateAgreesWithSessions() {
        let sessions = SessionTracker.sessions(of: .fixtureHistory())
        for seconds in Self.instants where seconds <= FixtureHistory.endSeconds {
            let time = fixtureSeconds(seconds)
            let covering = sessions.filter { $0.startMicroseconds <= time && ($0.endMicroseconds ?? .max) > time }
            #expect(covering.map(\.id).sorted() == projected(at: seconds).map { String($0.prefix { $0 != " " }) })
        }
    }

    // Proves state --seq folds through that sequence and asks about that record's instant.
    @Test func stateAtSequence() throws {
        let events = [RegistryEvent].fixtureHistory()
        for event in events where event.kind == .expire || event.kind == .register {
            var projection = Projection()
            for earlier in events where earlier.sequence <= event.sequence { projection.apply(earlier) }
            let expected = projection.liveServices(at: event.timeMicroseconds).map(Self.describe).sorted()
            #expect(try state(["--seq", "\(event.sequence)"]) == expected)
        }
        let beyond = try ToolRunner.run(["state", "--seq", "99999", "--data-dir", healthy])
        #expect(beyond.status == 2)
        #expect(beyond.stderr.contains("not in the log"))
    }

    // Proves a damaged snapshot is skipped (older one or full replay) and state stays right.
    @Test func damagedSnapshotFallsBack() throws {
        let output = try ToolRunner.run(
            [
                "state", "--format", "json", "--at", Timestamp.format(fixtureSeconds(300)), "--data-dir",
                ToolRunner.fixture("corrupt-snapshot"),
            ])
        #expect(output.status == 0)
        #expect(output.jsonLines.count == projected(at: 300).count)
    }

    // Proves verify passes the healthy log: exit 0, no problem rows.
    @Test func verifyHealthy() throws {
        let output = try ToolRunner.run(["verify", "--format", "json", "--data-dir", healthy])
        #expect(output.status == 0, "\(output.stdout) \(output.stderr)")
        #expect(output.jsonLines.isEmpty)
        #expect(output.stderr.contains("healthy"))
    }

    // Proves verify finds each planted corruption, naming file, offset and sequence, and exits 1.
    @Test(arguments: [
        ("torn-tail", "log/", true), ("corrupt-sealed", "log/", true), ("corrupt-snapshot", "snapshots/", false),
    ])
    func verifyFindsCorruption(fixture: String, filePrefix: String, hasOffset: Bool) throws {
        let output = try ToolRunner.run(["verify", "--format", "json", "--data-dir", ToolRunner.fixture(fixture)])
        #expect(output.status == 1, "\(fixture): \(output.stdout) \(output.stderr)")
        let problem = try #require(output.jsonLines.first)
        #expect((problem["file"] as? String)?.hasPrefix(filePrefix) == true, "\(problem)")
        #expect((problem["offset"] is NSNull) == !hasOffset, "\(problem)")
        #expect(problem["sequence"] as? Int != nil, "\(problem)")
        #expect(!(problem["problem"] as? String ?? "").isEmpty)
    }

    // Proves the torn tail reads up to the last whole commit: events still works, one record short.
    @Test func tornTailReadsToLastWholeCommit() throws {
        let torn = try ToolRunner.run([
            "events", "--all", "--format", "json", "--data-dir", ToolRunner.fixture("torn-tail"),
        ])
        #expect(torn.status == 0)
        #expect(torn.jsonLines.count == [RegistryEvent].fixtureHistory().count - 1)
    }

    // Proves a corrupt sealed segment stops a listing with exit 2 and a message pointing at verify.
    @Test func corruptSealedSegmentStopsListings() throws {
        let output = try ToolRunner.run(["events", "--data-dir", ToolRunner.fixture("corrupt-sealed")])
        #expect(output.status == 2)
        #expect(output.stderr.contains("verify"))
    }
}
