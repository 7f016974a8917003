import Registry
import Testing

@testable import tunnel_replay

@Suite struct SessionsTests {
    // Proves a register/renew/deregister cycle is one session with its renews and longest gap.
    @Test func oneCleanSession() {
        var script = EventScript()
        script.add(.register, "c1", "web", at: 0)
        script.add(.renew, "c1", "web", at: 15)
        script.add(.renew, "c1", "web", at: 35)
        script.add(.deregister, "c1", "web", at: 40)
        let sessions = SessionTracker.sessions(of: script.events)
        #expect(sessions.count == 1)
        #expect(sessions[0].end == .deregister)
        #expect(sessions[0].endMicroseconds == EventScript.seconds(40))
        #expect(sessions[0].renews == 2)
        #expect(sessions[0].maxGapMicroseconds == EventScript.seconds(20))
        #expect(sessions[0].address == "10.0.0.1:80")
    }

    // Proves an expiry ends a session at the lapse instant, and a later renew revives it as a new
    // session with the last known network and address.
    @Test func expiryThenReviveIsTwoSessions() {
        var script = EventScript()
        script.add(.register, "c1", "web", at: 0, network: "udp", address: "10.0.0.9:53")
        script.add(.expire, "c1", "web", at: 45.7, lapsedAt: 45)
        script.add(.renew, "c1", "web", at: 60)
        script.add(.renew, "c1", "web", at: 75)
        let sessions = SessionTracker.sessions(of: script.events)
        #expect(sessions.count == 2)
        #expect(sessions[0].end == .expire)
        #expect(sessions[0].endMicroseconds == EventScript.seconds(45))
        #expect(sessions[1].startMicroseconds == EventScript.seconds(60))
        #expect(sessions[1].end == .live && sessions[1].endMicroseconds == nil)
        #expect(sessions[1].network == "udp" && sessions[1].address == "10.0.0.9:53")
        #expect(sessions[1].renews == 1)
    }

    // Proves a renew after the lease lapsed with no expire record (unswept) ends the session at the
    // lease's expiry and starts another at the renew.
    @Test func unsweptLapseEndsAtTheLeaseExpiry() {
        var script = EventScript()
        script.add(.register, "c1", "web", at: 0)
        script.add(.renew, "c1", "web", at: 30)
        script.add(.renew, "c1", "web", at: 200)
        let sessions = SessionTracker.sessions(of: script.events)
        #expect(sessions.count == 2)
        #expect(sessions[0].end == .expire && sessions[0].endMicroseconds == EventScript.seconds(75))
        #expect(sessions[0].renews == 1)
        #expect(sessions[1].startMicroseconds == EventScript.seconds(200) && sessions[1].end == .live)
    }

    // Proves canonically equivalent spellings of a name and id ("é" precomposed or not, the Kelvin
    // sign and "K") are one service, one session, whether folded from events or from payload views.
    @Test func equivalentSpellingsAreOneSession() throws {
        var script = EventScript()
        script.add(.register, "\u{212A}1", "caf\u{E9}", at: 0)
        script.add(.renew, "K1", "cafe\u{301}", at: 15)
        script.add(.renew, "\u{212A}1", "caf\u{E9}", at: 30)
        script.add(.deregister, "K1", "cafe\u{301}", at: 40)
        var byView = SessionTracker()
        for event in script.events {
            let payload = EventCodec.encode(event)
            _ = try payload.withUnsafeBytes { bytes in
                byView.apply(
                    try EventCodec.view(bytes, sequence: event.sequence), sequence: event.sequence,
                    time: event.timeMicroseconds)
            }
        }
        for sessions in [SessionTracker.sessions(of: script.events), byView.allSessions()] {
            #expect(sessions.count == 1)
            #expect(sessions.first?.renews == 2)
            #expect(sessions.first?.end == .deregister)
            #expect(sessions.first?.endMicroseconds == EventScript.seconds(40))
        }
    }

    // Proves renews and deregisters of services never seen, or already deregistered, start nothing.
    @Test func unknownServicesStartNoSession() {
        var script = EventScript()
        script.add(.renew, "ghost", "web", at: 1)
        script.add(.deregister, "ghost", "web", at: 2)
        script.add(.register, "c1", "web", at: 3)
        script.add(.deregister, "c1", "web", at: 4)
        script.add(.renew, "c1", "web", at: 5)
        script.add(.expire, "c2", "web", at: 6, lapsedAt: 5)
        #expect(SessionTracker.sessions(of: script.events).count == 1)
    }

    // Proves a repeated Register of a live (name, id) continues its session, and that the same id
    // under another name is another service.
    @Test func reRegisterContinuesAndNamesSeparate() {
        var script = EventScript()
        script.add(.register, "c1", "web", at: 0)
        script.add(.register, "c1", "web", at: 10)
        script.add(.register, "c1", "api", at: 11)
        let sessions = SessionTracker.sessions(of: script.events)
        #expect(sessions.map(\.name) == ["web", "api"])
        #expect(sessions[0].maxGapMicroseconds == EventScript.seconds(10))
    }

    // Proves control records (start, stall) neither open nor close sessions.
    @Test func controlRecordsAreIgnored() {
        var script = EventScript()
        script.add(.register, "c1", "web", at: 0)
        script.add(.start, "", "", at: 100)
        script.add(.stall, "", "", at: 101)
        let sessions = SessionTracker.sessions(of: script.events)
        #expect(sessions.count == 1 && sessions[0].end == .live)
    }

    // Proves the fixture history's sessions are the ones its README promises.
    @Test func fixtureHistorySessions() {
        let sessions = SessionTracker.sessions(of: .fixtureHistory())
        let summary = sessions.map { session in
            "\(session.id) \(session.node) \(session.startMicroseconds / 1_000_000 - FixtureHistory.origin / 1_000_000)"
                + " \(session.endMicroseconds.map { String($0 / 1_000_000 - FixtureHistory.origin / 1_000_000) } ?? "-")"
                + " \(session.end.rawValue) \(session.renews)"
        }
        #expect(
            summary == [
                "web-a1 node-a 0 400 deregister 26", "web-b1 node-b 1 106 expire 4", "db-b1 node-b 2 107 expire 4",
                "api-a1 node-a 3 123 expire 5", "web-c1 node-c 120 - live 22", "db-c1 node-c 121 - live 21",
                "api-a1 node-a 138 - live 20", "flap-1 node-a 200 230 deregister 1",
                "flap-2 node-a 240 260 deregister 1", "flap-3 node-a 270 300 deregister 1",
                "flap-4 node-a 310 330 deregister 1", "flap-5 node-a 340 - live 7", "web-a2 node-a 401 - live 3",
            ]
        )
        #expect(sessions.allSatisfy { $0.maxGapMicroseconds == 15_000_000 })
    }

    // Proves a range keeps the sessions that overlap it, including ones that started before it.
    @Test func overlapUsesBothBounds() {
        var script = EventScript()
        script.add(.register, "c1", "web", at: 0)
        script.add(.deregister, "c1", "web", at: 10)
        let session = SessionTracker.sessions(of: script.events)[0]
        #expect(session.overlaps(since: EventScript.seconds(5), until: nil))
        #expect(session.overlaps(since: EventScript.seconds(10), until: EventScript.seconds(20)))
        #expect(!session.overlaps(since: EventScript.seconds(11), until: nil))
        #expect(!session.overlaps(since: nil, until: -1))
    }
}
