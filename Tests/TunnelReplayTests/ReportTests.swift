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
            #expect(bar.x >= ReportLayout.labelWidth)
            #expect(bar.x + bar.width <= ReportLayout.labelWidth + ReportLayout.plotWidth + 1)
        }
    }
}
