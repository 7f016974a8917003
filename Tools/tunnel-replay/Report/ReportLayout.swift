/// Where everything goes on the report's SVG timeline: rows (tunnels), lanes within a row (one
/// per session of a node that was up alongside another of the same node, so bars never cover
/// each other), bars (sessions, merged when closer than a pixel), expiry and flap marks.
struct ReportLayout {
    static let plotWidth = 1100.0
    static let rightMargin = 24.0
    static let labelWidthMin = 80.0
    static let laneHeight = 12.0
    static let rowGap = 6.0
    static let axisHeight = 24.0
    static let rowsMax = 300
    static let lanesMax = 3000
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
        /// The whole tunnel name (the label's tooltip).
        var name: String
        /// What is drawn: the name, shortened in the middle when long.
        var label: String
        var y: Double
        var height: Double
        var lanes: [ReportLanes.Lane]
    }

    let startMicroseconds: Int64
    let endMicroseconds: Int64
    /// The width of the name column, from the longest label drawn.
    let labelWidth: Double
    private(set) var rows: [Row] = []
    private(set) var bars: [Bar] = []
    private(set) var expiries: [Mark] = []
    private(set) var flapBands: [Band] = []
    private(set) var nodeColors: [String: Int] = [:]
    private(set) var nodeOrder: [String] = []
    private(set) var hiddenTunnels = 0
    private(set) var truncatedBars = false
    /// The height of the rows (the axis is drawn apart, above them).
    private(set) var height = 0.0
    private var lanesUsed = 0

    var width: Double { labelWidth + Self.plotWidth + Self.rightMargin }

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
        let drawn = names.prefix(Self.rowsMax)
        let longest = drawn.map { ReportText.shortened($0).count }.max() ?? 0
        labelWidth = max(Self.labelWidthMin, Double(longest) * ReportText.characterWidth + 16)
        var flapsByName: [String: [FlapEpisode]] = [:]
        for flap in flaps { flapsByName[flap.name, default: []].append(flap) }
        let tooltips = sessions.count <= 5000
        for name in drawn {
            let rowSessions = byName[name] ?? []
            let lanes = ReportLanes.assign(rowSessions)
            guard lanesUsed + lanes.lanes.count <= Self.lanesMax || rows.isEmpty else { break }
            layOutRow(name, rowSessions, lanes, flapsByName[name] ?? [], tooltips: tooltips)
        }
        hiddenTunnels = names.count - rows.count
    }

    func x(_ microseconds: Int64) -> Double {
        let clamped = min(max(microseconds, startMicroseconds), endMicroseconds)
        return labelWidth + Double(clamped - startMicroseconds) / Double(endMicroseconds - startMicroseconds)
            * Self.plotWidth
    }

    /// The time axis over the plot, its labels kept inside the picture.
    var axis: ReportAxis {
        ReportAxis(
            startMicroseconds: startMicroseconds,
            endMicroseconds: endMicroseconds,
            x: { [self] in x($0) },
            rightLimit: width - 2
        )
    }

    private mutating func layOutRow(
        _ name: String,
        _ sessions: [Session],
        _ assignment: ReportLanes.Assignment,
        _ flaps: [FlapEpisode],
        tooltips: Bool
    ) {
        let rowHeight = Double(max(assignment.lanes.count, 1)) * Self.laneHeight
        let top = height
        lanesUsed += assignment.lanes.count
        rows.append(
            Row(name: name, label: ReportText.shortened(name), y: top, height: rowHeight, lanes: assignment.lanes)
        )
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
        let order = sessions.indices.sorted {
            (sessions[$0].startMicroseconds, sessions[$0].startSequence)
                < (sessions[$1].startMicroseconds, sessions[$1].startSequence)
        }
        for index in order {
            let session = sessions[index]
            let lane = assignment.laneOfSession[index]
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
            if let previous = lastBarOfLane[lane], left - (bars[previous].x + bars[previous].width) < 1 {
                bars[previous].width = max(bars[previous].width, right - bars[previous].x)
                bars[previous].title = nil
                continue
            }
            guard bars.count < Self.barsMax else {
                truncatedBars = true
                continue
            }
            let title = tooltips ? Self.tooltip(session) : nil
            let color = nodeColors[session.node] ?? 0
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
}
