/// Durations as operators write them, in Go's `time.ParseDuration` form (GOST's own settings use
/// it) plus days: `500ms`, `45s`, `2m`, `1h`, `30d`, `1.5s`, `1h30m`, `2m30s`. The one parser of
/// the server's duration options and the replay tool's windows and relative times.
public enum DurationText {
    /// The longest duration accepted (100 years): longer ones are typos.
    public static let microsecondsMax: Int64 = 100 * 366 * 86_400_000_000

    private static let units: [(String, Double)] = [
        ("us", 1), ("µs", 1), ("ms", 1_000), ("s", 1_000_000), ("m", 60_000_000), ("h", 3_600_000_000),
        ("d", 86_400_000_000),
    ]

    /// Microseconds for `text`: the sum of its `NUMBER UNIT` parts; nil when a part is not one, or
    /// the total is under 1 µs or over `microsecondsMax`.
    public static func parse(_ text: String) -> Int64? {
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix(while: { !($0.isASCII && ($0.isNumber || $0 == ".")) })
            rest = rest.dropFirst(unitText.count)
            guard let value = Double(number), value.isFinite,
                let scale = units.first(where: { $0.0 == unitText })?.1
            else { return nil }
            total += value * scale
        }
        guard total >= 1, total <= Double(microsecondsMax) else { return nil }
        return Int64(total)
    }
}
