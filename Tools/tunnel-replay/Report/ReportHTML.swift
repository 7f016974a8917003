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
            svg text{font:11px system-ui,sans-serif} svg.mono text,text.mono{font-family:\(ReportText.fontFamily)}
            .axis{position:sticky;top:0;background:#fff;z-index:1}
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
                "<p class=\"meta\">Not drawn: \(layout.hiddenTunnels) more tunnels (at most \(ReportLayout.rowsMax)"
                    + " tunnels and \(ReportLayout.lanesMax) lanes are drawn)"
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

    /// The axis (sticky above the rows while the page scrolls) and the rows; a second axis
    /// below them when the rows are taller than a screen.
    private static func svg(_ layout: ReportLayout) -> String {
        let ticks = layout.axis.ticks()
        var parts = ["<div class=\"axis\">" + axisSVG(layout, ticks, labelsBelow: false) + "</div>"]
        parts.append(rowsSVG(layout, ticks))
        if layout.height > 600 { parts.append(axisSVG(layout, ticks, labelsBelow: true)) }
        return parts.joined(separator: "\n")
    }

    private static func axisSVG(_ layout: ReportLayout, _ ticks: [ReportAxis.Tick], labelsBelow: Bool) -> String {
        let height = ReportLayout.axisHeight
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(layout.width))\" height=\"\(number(height))\""
                + " class=\"mono\" aria-label=\"time axis\">"
        ]
        let (lineFrom, lineTo, textY) = labelsBelow ? (0.0, 6.0, 19.0) : (height - 6, height, 14.0)
        for tick in ticks {
            let x = number(tick.lineX)
            parts.append(
                "<line x1=\"\(x)\" y1=\"\(number(lineFrom))\" x2=\"\(x)\" y2=\"\(number(lineTo))\" stroke=\"#999\"/>"
            )
            guard !tick.text.isEmpty else { continue }
            parts.append(
                "<text x=\"\(number(tick.textX))\" y=\"\(number(textY))\" text-anchor=\"middle\">"
                    + "\(escape(tick.text))</text>"
            )
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    private static func rowsSVG(_ layout: ReportLayout, _ ticks: [ReportAxis.Tick]) -> String {
        let height = max(layout.height, 1)
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(layout.width))\" height=\"\(number(height))\""
                + " role=\"img\" aria-label=\"timeline of tunnels by node\">"
        ]
        for (index, row) in layout.rows.enumerated() where index % 2 == 1 {
            parts.append(
                "<rect x=\"0\" y=\"\(number(row.y - ReportLayout.rowGap / 2))\" width=\"\(number(layout.width))\""
                    + " height=\"\(number(row.height + ReportLayout.rowGap))\" fill=\"#f6f6f6\"/>"
            )
        }
        for tick in ticks {
            let x = number(tick.lineX)
            parts.append("<line x1=\"\(x)\" y1=\"0\" x2=\"\(x)\" y2=\"\(number(height))\" stroke=\"#e4e4e4\"/>")
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
                "<text class=\"mono\" x=\"\(number(layout.labelWidth - 8))\""
                    + " y=\"\(number(row.y + ReportLayout.laneHeight / 2 + 4))\" text-anchor=\"end\">"
                    + "<title>\(escape(row.name))</title>\(escape(row.label))</text>"
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
