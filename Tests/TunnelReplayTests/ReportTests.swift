import Foundation
import Registry
import Testing

@testable import tunnel_replay

@Suite struct ReportTests {
    private func fixtureReport() -> String {
        let events = [RegistryEvent].fixtureHistory()
        let sessions = SessionTracker.sessions(of: events)
        return ReportHTML.render(
            ReportInput(
                dataDirectory: "Fixtures/replay/healthy",
                startMicroseconds: fixtureSeconds(0),
                endMicroseconds: fixtureSeconds(450),
                generatedAtMicroseconds: fixtureSeconds(500),
                sessions: sessions,
                flaps: Flaps.episodes(of: sessions, windowMicroseconds: 600_000_000, minimum: 3),
                nodes: NodeTracker.summaries(of: events),
                events: events.count
            )
        )
    }

    // Proves the page is self-contained: inline SVG, no scripts, no external URLs (only the SVG namespace).
    @Test func selfContained() {
        let html = fixtureReport()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<svg"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<link"))
        let urls = html.components(separatedBy: "http").count - 1
        let namespaces = html.components(separatedBy: "http://www.w3.org/2000/svg").count - 1
        #expect(urls == namespaces)
    }

    // Proves bars are coloured per node, the three expiries and the flap are marked, and tables list everything.
    @Test func marksAndTables() {
        let html = fixtureReport()
        for node in ["node-a", "node-b", "node-c"] { #expect(html.contains(node)) }
        #expect(html.components(separatedBy: "stroke=\"#d62728\"").count - 1 == 3)
        #expect(html.components(separatedBy: "fill=\"#ffbb78\"").count - 1 == 1)
        #expect(html.contains("<td>flappy</td>"))
        #expect(html.contains("<td>silent</td>"))
        for color in ReportHTML.palette.prefix(3) { #expect(html.contains("fill=\"\(color)\"")) }
    }

    // Proves names are escaped, so a hostile tunnel name cannot inject markup into the page.
    @Test func escapesNames() {
        #expect(ReportHTML.escape("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#39;")
    }

    // Proves the layout keeps every bar inside the plot and merges sessions closer than a pixel.
    @Test func layoutBoundsAndMerges() {
        var script = EventScript()
        for index in 0..<1000 {
            script.add(.register, "c\(index)", "t", at: Double(index))
            script.add(.deregister, "c\(index)", "t", at: Double(index) + 0.999)
        }
        let sessions = SessionTracker.sessions(of: script.events)
        let layout = ReportLayout(
            sessions: sessions,
            flaps: [],
            startMicroseconds: 0,
            endMicroseconds: EventScript.seconds(1000)
        )
        #expect(layout.bars.count < 10)
        for bar in layout.bars {
            #expect(bar.x >= layout.labelWidth)
            #expect(bar.x + bar.width <= layout.labelWidth + ReportLayout.plotWidth + 1)
        }
    }

    /// Bars that share a lane (same y) and cover each other by more than a rounding error.
    private func overlappingBars(_ layout: ReportLayout) -> Int {
        var count = 0
        let byLane = Dictionary(grouping: layout.bars, by: \.y)
        for bars in byLane.values {
            let sorted = bars.sorted { $0.x < $1.x }
            for (left, right) in zip(sorted, sorted.dropFirst()) where left.x + left.width > right.x + 0.01 {
                count += 1
            }
        }
        return count
    }

    // Proves overlapping sessions of one tunnel on one node get lanes of their own, sessions one
    // after another share a lane, and each node has its own lanes: no bar is drawn over another.
    @Test func overlappingSessionsGetTheirOwnLanes() {
        var script = EventScript()
        script.add(.register, "a1", "t", node: "n1", at: 0)
        script.add(.register, "a2", "t", node: "n1", at: 100)
        script.add(.register, "a3", "t", node: "n1", at: 200)
        script.add(.deregister, "a1", "t", node: "n1", at: 300)
        script.add(.register, "a4", "t", node: "n1", at: 400)
        script.add(.register, "b1", "t", node: "n2", at: 50)
        script.add(.deregister, "a2", "t", node: "n1", at: 500)
        script.add(.deregister, "a3", "t", node: "n1", at: 600)
        script.add(.deregister, "a4", "t", node: "n1", at: 700)
        script.add(.deregister, "b1", "t", node: "n2", at: 800)
        let sessions = SessionTracker.sessions(of: script.events)
        let assignment = ReportLanes.assign(sessions)
        #expect(assignment.lanes.map(\.node) == ["n1", "n1", "n1", "n2"])
        let laneOf = Dictionary(uniqueKeysWithValues: zip(sessions.map(\.id), assignment.laneOfSession))
        #expect(Set([laneOf["a1"], laneOf["a2"], laneOf["a3"]]).count == 3)
        #expect(laneOf["a4"] == laneOf["a1"])
        #expect(laneOf["b1"] == 3)
        let layout = ReportLayout(sessions: sessions, flaps: [], startMicroseconds: 0, endMicroseconds: EventScript.seconds(800))
        #expect(layout.rows.count == 1 && layout.rows[0].height == 4 * ReportLayout.laneHeight)
        #expect(layout.bars.count == 5)
        #expect(overlappingBars(layout) == 0)
    }

    // Proves every axis label lies inside the picture and clear of its neighbours, over spans from
    // seconds to years, and that the last tick keeps its label.
    @Test(arguments: [1.0, 7.5, 450, 3600, 86400, 3 * 86400, 40 * 86400, 800 * 86400] as [Double])
    func axisLabelsVisible(spanSeconds: Double) {
        let start = fixtureSeconds(0) + 123_456
        let layout = ReportLayout(
            sessions: [], flaps: [], startMicroseconds: start, endMicroseconds: start + EventScript.seconds(spanSeconds))
        let ticks = layout.axis.ticks()
        #expect(ticks.count >= 1, "\(spanSeconds)")
        #expect(ticks.count <= ReportAxis.ticksMax + 1)
        let labelled = ticks.filter { !$0.text.isEmpty }
        for tick in labelled {
            #expect(tick.left >= 0 && tick.right <= layout.width - 1, "\(tick)")
        }
        for (left, right) in zip(labelled, labelled.dropFirst()) {
            #expect(left.right + ReportAxis.labelGap <= right.left, "\(left) \(right)")
        }
        #expect(ticks.last?.text.isEmpty == false)
    }

    // Proves a label whose tick sits at the plot's right edge (here wider than the margin)
    // is moved in rather than clipped.
    @Test func lastLabelAtTheEdgeMovesIn() {
        let midnight = Timestamp.parseRFC3339("2026-11-26T00:00:00Z")!
        let layout = ReportLayout(
            sessions: [], flaps: [], startMicroseconds: midnight + 3_600_000_000,
            endMicroseconds: midnight + 3 * Timestamp.microsecondsPerDay + 10)
        let last = layout.axis.ticks().last!
        #expect(last.text == "11-29 00:00")
        #expect(last.lineX > layout.labelWidth + ReportLayout.plotWidth - 1)
        #expect(last.textX < last.lineX)
        #expect(last.right <= layout.width - 1)
    }

    // Proves names are drawn whole when they fit (a UUID), shortened in the middle when long, always
    // with the whole name as tooltip, and that the name column is wide enough for every label.
    @Test func namesWholeOrShortenedWithTooltip() {
        let uuid = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
        let long = String(repeating: "gateway-router-", count: 6) + "end"
        var script = EventScript()
        script.add(.register, "c1", uuid, at: 0)
        script.add(.register, "c2", long, at: 1)
        let sessions = SessionTracker.sessions(of: script.events)
        let layout = ReportLayout(sessions: sessions, flaps: [], startMicroseconds: 0, endMicroseconds: EventScript.seconds(10))
        let labels = Dictionary(uniqueKeysWithValues: layout.rows.map { ($0.name, $0.label) })
        #expect(labels[uuid] == uuid)
        let short = labels[long] ?? ""
        #expect(short.count == ReportText.nameCharactersMax && short.contains("…"))
        #expect(short.hasPrefix("gateway-router-") && short.hasSuffix("router-end"))
        #expect(layout.labelWidth >= ReportText.width(of: short) + 8)
        let html = ReportHTML.render(
            ReportInput(
                dataDirectory: "d", startMicroseconds: 0, endMicroseconds: EventScript.seconds(10),
                generatedAtMicroseconds: 0, sessions: sessions, flaps: [], nodes: [], events: 2))
        #expect(html.contains("<title>\(long)</title>\(short)</text>"))
        #expect(html.contains("<title>\(uuid)</title>\(uuid)</text>"))
    }

    // Proves 200 tunnels are all drawn, each in its own band, with no bar over another.
    @Test func twoHundredTunnels() {
        var script = EventScript()
        for index in 0..<200 {
            script.add(.register, "c\(index)", "tunnel-\(index)", node: "n\(index % 5)", at: Double(index))
            script.add(.register, "d\(index)", "tunnel-\(index)", node: "n\(index % 5)", at: Double(index) + 0.5)
        }
        let layout = ReportLayout(
            sessions: SessionTracker.sessions(of: script.events), flaps: [], startMicroseconds: 0,
            endMicroseconds: EventScript.seconds(300))
        #expect(layout.rows.count == 200 && layout.hiddenTunnels == 0)
        for (upper, lower) in zip(layout.rows, layout.rows.dropFirst()) {
            #expect(upper.y + upper.height + ReportLayout.rowGap <= lower.y + 0.01)
        }
        #expect(overlappingBars(layout) == 0)
    }

    // Proves the drawn range is the span of the data, narrowed (never widened) by --since/--until.
    @Test func rangeIsTheDataSpan() {
        let first = fixtureSeconds(0)
        let last = fixtureSeconds(450)
        func range(_ since: Int64?, _ until: Int64?) -> [Int64] {
            let drawn = ReportCommand.range(since: since, until: until, dataFirst: first, dataLast: last)
            return [drawn.0, drawn.1]
        }
        #expect(range(nil, nil) == [first, last])
        #expect(range(first - 86_400_000_000, nil) == [first, last])
        #expect(range(fixtureSeconds(100), fixtureSeconds(200)) == [fixtureSeconds(100), fixtureSeconds(200)])
    }
}
