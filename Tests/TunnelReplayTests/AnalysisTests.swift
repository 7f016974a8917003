import EventLog
import Registry
import Testing

@testable import tunnel_replay

@Suite struct AnalysisTests {
    private let fixtureSessions = SessionTracker.sessions(of: .fixtureHistory())

    // Proves timeline merges overlapping sessions per node and keeps a 1 s gap as two windows.
    @Test func fixtureTimelineOfWeb() {
        let windows = Timeline.windows(of: fixtureSessions.filter { $0.name == "web" })
        let summary = windows.map { window in
            "\(window.node) \(window.startMicroseconds) \(window.endMicroseconds.map(String.init) ?? "-")"
        }
        #expect(
            summary == [
                "node-a \(fixtureSeconds(0)) \(fixtureSeconds(400))",
                "node-b \(fixtureSeconds(1)) \(fixtureSeconds(106))",
                "node-c \(fixtureSeconds(120)) -",
                "node-a \(fixtureSeconds(401)) -",
            ]
        )
    }

    // Proves overlapping sessions on one node form one window that stays open while any is live.
    @Test func overlappingSessionsMerge() {
        var script = EventScript()
        script.add(.register, "c1", "web", at: 0)
        script.add(.register, "c2", "web", at: 5)
        script.add(.deregister, "c1", "web", at: 10)
        script.add(.register, "c3", "web", at: 30)
        script.add(.deregister, "c3", "web", at: 40)
        let windows = Timeline.windows(of: SessionTracker.sessions(of: script.events))
        #expect(windows.count == 1)
        #expect(windows[0].startMicroseconds == 0 && windows[0].endMicroseconds == nil)
    }

    // Proves the fixture's flapping tunnel is found with its four reconnects, and nothing else is.
    @Test func fixtureFlaps() {
        let episodes = Flaps.episodes(of: fixtureSessions, windowMicroseconds: 600_000_000, minimum: 3)
        #expect(episodes.count == 1)
        #expect(episodes.first?.name == "flappy")
        #expect(episodes.first?.reconnects == 4)
        #expect(episodes.first?.firstMicroseconds == fixtureSeconds(240))
        #expect(episodes.first?.lastMicroseconds == fixtureSeconds(340))
        #expect(episodes.first?.nodes == ["node-a"])
        #expect(Flaps.episodes(of: fixtureSessions, windowMicroseconds: 60_000_000, minimum: 3).isEmpty)
        #expect(Flaps.episodes(of: fixtureSessions, windowMicroseconds: 600_000_000, minimum: 5).isEmpty)
    }

    // Proves reconnect bursts far apart are separate episodes, and a second node joining is no reconnect.
    @Test func separateEpisodes() {
        var script = EventScript()
        script.add(.register, "other-node", "t", node: "n2", at: 0)
        var time = 0.0
        for burst in 0..<2 {
            for index in 0..<4 {
                let id = "c\(burst)-\(index)"
                script.add(.register, id, "t", at: time)
                script.add(.deregister, id, "t", at: time + 5)
                time += 10
            }
            time += 3600
        }
        let episodes = Flaps.episodes(
            of: SessionTracker.sessions(of: script.events),
            windowMicroseconds: 60_000_000,
            minimum: 3
        )
        #expect(episodes.map(\.reconnects) == [3, 4])
    }

    // Proves node summaries: node-b went silent (crash), node-a and node-c are up with their live counts.
    @Test func fixtureNodes() {
        let nodes = NodeTracker.summaries(of: .fixtureHistory())
        #expect(nodes.map(\.node) == ["node-a", "node-b", "node-c"])
        #expect(nodes.map(\.status) == [.up, .silent, .up])
        #expect(nodes.map(\.live) == [3, 0, 2])
        #expect(nodes.map(\.sessions) == [9, 2, 2])
        #expect(nodes[1].silentSinceMicroseconds == fixtureSeconds(62))
        #expect(nodes[1].lapsedAtMicroseconds == fixtureSeconds(107))
        #expect(nodes[0].lastSeenMicroseconds == fixtureSeconds(446))
        #expect(nodes[2].lastSeenMicroseconds == fixtureSeconds(450))
    }

    // Proves a node whose connectors all deregistered is gone, not silent.
    @Test func cleanShutdownIsGone() {
        var script = EventScript()
        script.add(.register, "c1", "web", node: "n1", at: 0)
        script.add(.deregister, "c1", "web", node: "n1", at: 20)
        #expect(NodeTracker.summaries(of: script.events).map(\.status) == [.gone])
    }

    // Proves stats take events and span from segment descriptions.
    @Test func statsFromSegmentDescriptions() {
        var stats = LogStats()
        stats.add([
            SegmentInfo(
                fileName: "a", bytes: 100, firstSequence: 1, lastSequence: 10, firstTimestampMicroseconds: 5,
                lastTimestampMicroseconds: 50, isSealed: true),
            SegmentInfo(
                fileName: "b", bytes: 20, firstSequence: 11, lastSequence: 12, firstTimestampMicroseconds: 60,
                lastTimestampMicroseconds: 70, isSealed: false),
        ])
        #expect(stats.events == 12 && stats.segments == 2 && stats.bytes == 120)
        #expect(stats.firstMicroseconds == 5)
        #expect(stats.lastMicroseconds == 70)
    }
}
