#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the report shows; built by `report`, rendered by `ReportHTML`.
struct ReportInput {
    var dataDirectory: String
    var startMicroseconds: Int64
    var endMicroseconds: Int64
    var generatedAtMicroseconds: Int64
    var sessions: [Session]
    var flaps: [FlapEpisode]
    var nodes: [NodeSummary]
    var events: Int
}

/// Renders the self-contained HTML report: inline CSS and SVG, no scripts, no fetches.
enum ReportHTML {
    static let palette = [
        "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
        "#aec7e8", "#98df8a", "#c5b0d5", "#c49c94",
    ]

    static func render(_ input: ReportInput) -> String {
        let layout = ReportLayout(
            sessions: input.sessions,
            flaps: input.flaps,
            startMicroseconds: input.startMicroseconds,
            endMicroseconds: input.endMicroseconds
        )
        var html: [String] = []
        html.append(
            """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>tunnel-replay report \(escape(Timestamp.format(input.startMicroseconds)))</title>
            <style>
            body{font:13px system-ui,sans-serif;margin:20px;color:#222}
            h1{font-size:18px;margin:0 0 4px} h2{font-size:15px;margin:22px 0 6px}
            .meta{color:#555;margin-bottom:10px} table{border-collapse:collapse}
            td,th{border:1px solid #ccc;padding:3px 8px;text-align:left} th{background:#f2f2f2}
            td.n{text-align:right} .legend span{display:inline-block;margin-right:14px}
            .sw{display:inline-block;width:12px;height:12px;vertical-align:middle;margin-right:4px}
            svg text{font:11px system-ui,sans-serif}
            </style></head><body>
            <h1>Tunnel connections</h1>
            <div class="meta">\(escape(input.dataDirectory)) · \(Timestamp.format(input.startMicroseconds)) –
            \(Timestamp.format(input.endMicroseconds)) · \(input.events) events · \(input.sessions.count) sessions ·
            generated \(Timestamp.format(input.generatedAtMicroseconds))</div>
            """
        )
        html.append(legend(layout))
        html.append(svg(layout))
        if layout.hiddenTunnels > 0 || layout.truncatedBars {
            html.append(
                "<p class=\"meta\">Not drawn: \(layout.hiddenTunnels) more tunnels"
                    + (layout.truncatedBars ? ", and bars beyond \(ReportLayout.barsMax)" : "")
                    + "; narrow the range with --since/--until.</p>"
            )
        }
        html.append(tunnelTable(input))
        html.append(nodeTable(input.nodes))
        html.append("</body></html>\n")
        return html.joined(separator: "\n")
    }

    private static func legend(_ layout: ReportLayout) -> String {
        var parts = ["<div class=\"legend\">"]
        for node in layout.nodeOrder.prefix(40) {
            let color = palette[(layout.nodeColors[node] ?? 0) % palette.count]
            parts.append("<span><i class=\"sw\" style=\"background:\(color)\"></i>\(escape(node))</span>")
        }
        parts.append("<span><i class=\"sw\" style=\"background:#d62728\"></i>lease expired</span>")
        parts.append("<span><i class=\"sw\" style=\"background:#ffbb78\"></i>flapping</span></div>")
        return parts.joined()
    }

    private static func svg(_ layout: ReportLayout) -> String {
        let width = ReportLayout.labelWidth + ReportLayout.plotWidth + 20
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(width))\" height=\"\(number(layout.height))\""
                + " role=\"img\" aria-label=\"timeline of tunnels by node\">"
        ]
        for tick in layout.ticks() {
            let x = number(layout.x(tick))
            parts.append(
                "<line x1=\"\(x)\" y1=\"16\" x2=\"\(x)\" y2=\"\(number(layout.height))\" stroke=\"#e4e4e4\"/>"
                    + "<text x=\"\(x)\" y=\"12\" text-anchor=\"middle\">\(tickLabel(tick))</text>"
            )
        }
        for band in layout.flapBands {
            parts.append(
                "<rect x=\"\(number(band.x))\" y=\"\(number(band.y))\" width=\"\(number(band.width))\""
                    + " height=\"\(number(band.height))\" fill=\"#ffbb78\" opacity=\"0.6\">"
                    + "<title>\(escape(band.title))</title></rect>"
            )
        }
        for row in layout.rows {
            parts.append(
                "<text x=\"\(number(ReportLayout.labelWidth - 8))\" y=\"\(number(row.y + row.height / 2 + 4))\""
                    + " text-anchor=\"end\">\(escape(String(row.name.prefix(32))))</text>"
            )
        }
        for bar in layout.bars {
            let color = palette[bar.colorIndex % palette.count]
            let rect =
                "<rect x=\"\(number(bar.x))\" y=\"\(number(bar.y))\" width=\"\(number(bar.width))\""
                + " height=\"\(number(ReportLayout.laneHeight - 2))\" fill=\"\(color)\""
            parts.append(bar.title.map { rect + "><title>\(escape($0))</title></rect>" } ?? rect + "/>")
        }
        for mark in layout.expiries.prefix(ReportLayout.barsMax) {
            parts.append(
                "<path d=\"M\(number(mark.x - 3)) \(number(mark.y - 4))l6 8m0 -8l-6 8\" stroke=\"#d62728\""
                    + " stroke-width=\"2\"><title>\(escape(mark.title))</title></path>"
            )
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    private static func tunnelTable(_ input: ReportInput) -> String {
        var byName: [String: [Session]] = [:]
        for session in input.sessions { byName[session.name, default: []].append(session) }
        var flapsByName: [String: Int] = [:]
        for flap in input.flaps { flapsByName[flap.name, default: 0] += flap.reconnects }
        var parts = [
            "<h2>Tunnels</h2><table><tr><th>tunnel</th><th>sessions</th><th>nodes</th><th>expiries</th>"
                + "<th>flap reconnects</th><th>live at end</th></tr>"
        ]
        for name in byName.keys.sorted().prefix(ReportLayout.rowsMax * 10) {
            let sessions = byName[name] ?? []
            let nodes = Set(sessions.map(\.node)).sorted().joined(separator: ", ")
            parts.append(
                "<tr><td>\(escape(name))</td><td class=\"n\">\(sessions.count)</td><td>\(escape(nodes))</td>"
                    + "<td class=\"n\">\(sessions.filter { $0.end == .expire }.count)</td>"
                    + "<td class=\"n\">\(flapsByName[name] ?? 0)</td>"
                    + "<td class=\"n\">\(sessions.filter { $0.end == .live }.count)</td></tr>"
            )
        }
        parts.append("</table>")
        return parts.joined(separator: "\n")
    }

    private static func nodeTable(_ nodes: [NodeSummary]) -> String {
        var parts = [
            "<h2>Nodes</h2><table><tr><th>node</th><th>status</th><th>live</th><th>sessions</th>"
                + "<th>first seen</th><th>last seen</th><th>silent since</th></tr>"
        ]
        for node in nodes.prefix(1000) {
            parts.append(
                "<tr><td>\(escape(node.node))</td><td>\(node.status.rawValue)</td><td class=\"n\">\(node.live)</td>"
                    + "<td class=\"n\">\(node.sessions)</td><td>\(Timestamp.format(node.firstSeenMicroseconds))</td>"
                    + "<td>\(Timestamp.format(node.lastSeenMicroseconds))</td>"
                    + "<td>\(node.silentSinceMicroseconds.map(Timestamp.format) ?? "")</td></tr>"
            )
        }
        parts.append("</table>")
        return parts.joined(separator: "\n")
    }

    private static func tickLabel(_ microseconds: Int64) -> String {
        let text = Timestamp.format(microseconds)
        let time = text.dropFirst(11).prefix(8)
        return time == "00:00:00" ? String(text.prefix(10)) : String(time)
    }

    /// One decimal place is plenty at screen resolution and keeps the file small.
    static func number(_ value: Double) -> String {
        let tenths = Int64((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths.magnitude
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }

    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
