#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where everything goes on the report's SVG timeline: rows (tunnels), lanes (nodes within a
/// tunnel), bars (sessions, merged when closer than a pixel), expiry and flap marks.
struct ReportLayout {
    static let labelWidth = 220.0
    static let plotWidth = 1100.0
    static let laneHeight = 12.0
    static let rowGap = 6.0
    static let axisHeight = 28.0
    static let rowsMax = 300
    static let lanesPerRowMax = 4
    static let barsMax = 40_000

    struct Bar {
        var x: Double
        var width: Double
        var y: Double
        var colorIndex: Int
        var title: String?
    }

    struct Mark {
        var x: Double
        var y: Double
        var title: String
    }

    struct Band {
        var x: Double
        var width: Double
        var y: Double
        var height: Double
        var title: String
    }

    struct Row {
        var name: String
        var y: Double
        var height: Double
    }

    let startMicroseconds: Int64
    let endMicroseconds: Int64
    private(set) var rows: [Row] = []
    private(set) var bars: [Bar] = []
    private(set) var expiries: [Mark] = []
    private(set) var flapBands: [Band] = []
    private(set) var nodeColors: [String: Int] = [:]
    private(set) var nodeOrder: [String] = []
    private(set) var hiddenTunnels = 0
    private(set) var truncatedBars = false
    private(set) var height = axisHeight

    init(sessions: [Session], flaps: [FlapEpisode], startMicroseconds: Int64, endMicroseconds: Int64) {
        self.startMicroseconds = startMicroseconds
        self.endMicroseconds = max(endMicroseconds, startMicroseconds + 1_000_000)
        for session in sessions where nodeColors[session.node] == nil {
            nodeColors[session.node] = nodeOrder.count
            nodeOrder.append(session.node)
        }
        var byName: [String: [Session]] = [:]
        for session in sessions { byName[session.name, default: []].append(session) }
        let names = byName.keys.sorted()
        hiddenTunnels = max(names.count - Self.rowsMax, 0)
        var flapsByName: [String: [FlapEpisode]] = [:]
        for flap in flaps { flapsByName[flap.name, default: []].append(flap) }
        let tooltips = sessions.count <= 5000
        for name in names.prefix(Self.rowsMax) {
            layOutRow(name, byName[name] ?? [], flapsByName[name] ?? [], tooltips: tooltips)
        }
    }

    func x(_ microseconds: Int64) -> Double {
        let clamped = min(max(microseconds, startMicroseconds), endMicroseconds)
        return Self.labelWidth + Double(clamped - startMicroseconds) / Double(endMicroseconds - startMicroseconds)
            * Self.plotWidth
    }

    private mutating func layOutRow(_ name: String, _ sessions: [Session], _ flaps: [FlapEpisode], tooltips: Bool) {
        var lanes: [String] = []
        for session in sessions where !lanes.contains(session.node) { lanes.append(session.node) }
        let laneCount = min(lanes.count, Self.lanesPerRowMax)
        let rowHeight = Double(max(laneCount, 1)) * Self.laneHeight
        let top = height
        rows.append(Row(name: name, y: top, height: rowHeight))
        for flap in flaps {
            let left = x(flap.firstMicroseconds)
            flapBands.append(
                Band(
                    x: left - 2,
                    width: max(x(flap.lastMicroseconds) - left, 0) + 4,
                    y: top - 2,
                    height: rowHeight + 4,
                    title: "\(name): \(flap.reconnects) reconnects \(Timestamp.format(flap.firstMicroseconds))"
                        + " – \(Timestamp.format(flap.lastMicroseconds))"
                )
            )
        }
        var lastBarOfLane: [Int: Int] = [:]
        for session in sessions.sorted(by: { $0.startMicroseconds < $1.startMicroseconds }) {
            let lane = min(lanes.firstIndex(of: session.node) ?? 0, Self.lanesPerRowMax - 1)
            let left = x(session.startMicroseconds)
            let right = x(session.endMicroseconds ?? endMicroseconds)
            let y = top + Double(lane) * Self.laneHeight
            if session.end == .expire, let end = session.endMicroseconds {
                expiries.append(
                    Mark(
                        x: right,
                        y: y + Self.laneHeight / 2,
                        title: "\(session.id) on \(session.node) expired \(Timestamp.format(end))"
                    )
                )
            }
            let color = nodeColors[session.node] ?? 0
            if let previous = lastBarOfLane[lane], bars[previous].colorIndex == color,
                left - (bars[previous].x + bars[previous].width) < 1
            {
                bars[previous].width = max(bars[previous].width, right - bars[previous].x)
                bars[previous].title = nil
                continue
            }
            guard bars.count < Self.barsMax else {
                truncatedBars = true
                continue
            }
            let title = tooltips ? Self.tooltip(session) : nil
            bars.append(Bar(x: left, width: max(right - left, 1), y: y + 1, colorIndex: color, title: title))
            lastBarOfLane[lane] = bars.count - 1
        }
        height = top + rowHeight + Self.rowGap
    }

    private static func tooltip(_ session: Session) -> String {
        "\(session.name) \(session.id) on \(session.node) (\(session.address)): "
            + "\(Timestamp.format(session.startMicroseconds)) – "
            + (session.endMicroseconds.map(Timestamp.format) ?? "live") + " (\(session.end.rawValue))"
    }

    /// Axis ticks: a round step giving about 8 ticks over the range.
    func ticks() -> [Int64] {
        let span = endMicroseconds - startMicroseconds
        let steps: [Int64] = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400]
        let step = (steps.first { span / ($0 * 1_000_000) <= 10 } ?? 30 * 86400) * 1_000_000
        var tick = (startMicroseconds / step + 1) * step
        var result: [Int64] = []
        while tick < endMicroseconds, result.count < 20 {
            result.append(tick)
            tick += step
        }
        return result
    }
}
