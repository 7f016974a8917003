import Registry

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
