/// The report's time axis: round tick steps and labels that stay inside the picture and never
/// overlap one another.
struct ReportAxis {
    /// A gridline at `lineX` and its label, centred on `textX` (moved in from an edge).
    struct Tick: Equatable {
        var microseconds: Int64
        var lineX: Double
        var textX: Double
        var text: String

        var textWidth: Double { ReportText.width(of: text) }
        var left: Double { textX - textWidth / 2 }
        var right: Double { textX + textWidth / 2 }
    }

    /// Round steps in seconds, smallest first.
    static let stepsSeconds: [Int64] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600,
        86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400, 365 * 86400,
    ]
    static let ticksMax = 10
    /// Space kept free between two labels.
    static let labelGap = 12.0

    let startMicroseconds: Int64
    let endMicroseconds: Int64
    /// Maps an instant to its x.
    let x: (Int64) -> Double
    /// Labels must end at or before this x (the picture's right edge less a margin).
    let rightLimit: Double

    /// The step: the smallest round one giving at most `ticksMax` ticks over the range.
    var stepMicroseconds: Int64 {
        let span = max(endMicroseconds - startMicroseconds, 1)
        let seconds = Self.stepsSeconds.first { span / ($0 * 1_000_000) <= Int64(Self.ticksMax) }
        return (seconds ?? span / 1_000_000 / Int64(Self.ticksMax) + 1) * 1_000_000
    }

    /// The ticks strictly inside the range, each labelled; a label that would overlap the one
    /// before it (after being kept inside the edges) is left out, its gridline kept.
    func ticks() -> [Tick] {
        let step = stepMicroseconds
        var tick = (Timestamp.floorDivide(startMicroseconds, step) + 1) * step
        var result: [Tick] = []
        var previousRight = -Double.infinity
        while tick < endMicroseconds, result.count < Self.ticksMax * 2 {
            let text = label(tick, stepMicroseconds: step)
            let width = ReportText.width(of: text)
            let lineX = x(tick)
            let textX = min(lineX, rightLimit - width / 2)
            if textX - width / 2 >= previousRight + Self.labelGap {
                result.append(Tick(microseconds: tick, lineX: lineX, textX: textX, text: text))
                previousRight = textX + width / 2
            } else {
                result.append(Tick(microseconds: tick, lineX: lineX, textX: textX, text: ""))
            }
            tick += step
        }
        return result
    }

    /// `03:14:20` below a minute, `03:14` within a day, `11-26 03:00` over several days, a date from
    /// a step of a day up.
    func label(_ microseconds: Int64, stepMicroseconds step: Int64) -> String {
        let text = Timestamp.format(microseconds)
        let day = Timestamp.microsecondsPerDay
        if step >= day { return String(text.prefix(10)) }
        if step < 60_000_000 { return String(text.dropFirst(11).prefix(8)) }
        if endMicroseconds - startMicroseconds <= day { return String(text.dropFirst(11).prefix(5)) }
        return String(text.dropFirst(5).prefix(5)) + " " + String(text.dropFirst(11).prefix(5))
    }
}

/// Text measures for the report: labels use a monospace font, so a width is a character count.
enum ReportText {
    static let fontPixels = 11.0
    /// A generous advance for an 11 px monospace glyph (0.6 em in DejaVu Sans Mono, Menlo, Consolas).
    static let characterWidth = 7.0
    static let fontFamily = "'DejaVu Sans Mono',Menlo,Consolas,monospace"
    /// Tunnel names longer than this are shortened in the middle (the whole name is the tooltip).
    static let nameCharactersMax = 40

    static func width(of text: String) -> Double {
        Double(text.count) * characterWidth
    }

    /// `name` itself when it fits, else its start and end around an ellipsis, `nameCharactersMax` long.
    static func shortened(_ name: String) -> String {
        guard name.count > nameCharactersMax else { return name }
        let head = (nameCharactersMax - 1) / 2
        let tail = nameCharactersMax - 1 - head
        return String(name.prefix(head)) + "…" + String(name.suffix(tail))
    }
}
