/// Durations as operators type them: `45s`, `10m`, `1h30m`, `500ms`, `1d`.
enum DurationText {
    /// The longest duration accepted anywhere (100 years): longer ones are typos.
    static let microsecondsMax: Int64 = 100 * 366 * Timestamp.microsecondsPerDay

    /// Microseconds for `text`, or nil when it is not a positive duration within the limit.
    static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        var total: Int64 = 0
        guard !bytes.isEmpty else { return nil }
        while index < bytes.count {
            var value: Int64 = 0
            let digitsStart = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                guard index - digitsStart < 12 else { return nil }
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard index > digitsStart else { return nil }
            let unitStart = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "a"), bytes[index] <= UInt8(ascii: "z") {
                index += 1
            }
            guard let unit = unitMicroseconds(String(decoding: bytes[unitStart..<index], as: UTF8.self)) else {
                return nil
            }
            let (product, overflow) = value.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            total += product
            guard total <= microsecondsMax else { return nil }
        }
        return total > 0 ? total : nil
    }

    private static func unitMicroseconds(_ unit: String) -> Int64? {
        switch unit {
        case "us": return 1
        case "ms": return 1_000
        case "s": return 1_000_000
        case "m": return 60_000_000
        case "h": return 3_600_000_000
        case "d": return Timestamp.microsecondsPerDay
        default: return nil
        }
    }
}

/// A `--since`/`--until`/`--at` value: RFC 3339, `now`, or relative to now (`-2h`, `-15m`).
enum TimeArgument {
    /// Microseconds for `text`, relative forms counted back from `nowMicroseconds`.
    static func parse(_ text: String, nowMicroseconds: Int64) throws(ReplayError) -> Int64 {
        if text == "now" { return nowMicroseconds }
        if text.hasPrefix("-") {
            guard let duration = DurationText.parse(String(text.dropFirst())) else {
                throw .usage(
                    "cannot read the relative time '\(text)': write -30s, -15m, -2h, -1d or a combination like -1h30m"
                )
            }
            return nowMicroseconds - duration
        }
        guard let value = Timestamp.parseRFC3339(text) else {
            throw .usage(
                "cannot read the time '\(text)': write RFC 3339 like 2026-11-26T03:14:00Z (UTC) or"
                    + " 2026-11-26T05:14:00+02:00, or a relative time like -2h"
            )
        }
        return value
    }
}
