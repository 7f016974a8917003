import Registry
import Testing

@testable import tunnel_replay

@Suite struct TimeTextTests {
    // Proves formatting is RFC 3339 UTC with exactly six fraction digits and round-trips through the parser.
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (Int64(1_795_662_000_000_000), "2026-11-26T03:00:00.000000Z"),
        (Int64(1_795_662_840_000_001), "2026-11-26T03:14:00.000001Z"),
        (Int64(951_782_400_123_456), "2000-02-29T00:00:00.123456Z"),
    ])
    func formatsRFC3339WithMicroseconds(microseconds: Int64, text: String) {
        #expect(Timestamp.format(microseconds) == text)
        #expect(Timestamp.parseRFC3339(text) == microseconds)
    }

    // Proves the accepted input forms: Z, offsets, fractions shorter and longer than six digits, bare dates.
    @Test(arguments: [
        ("2026-11-26T03:14:00Z", Int64(1_795_662_840_000_000)),
        ("2026-11-26t03:14:00z", Int64(1_795_662_840_000_000)),
        ("2026-11-26T05:14:00+02:00", Int64(1_795_662_840_000_000)),
        ("2026-11-25T22:14:00-05:00", Int64(1_795_662_840_000_000)),
        ("2026-11-26T03:14:00.5Z", Int64(1_795_662_840_500_000)),
        ("2026-11-26T03:14:00.123456789Z", Int64(1_795_662_840_123_456)),
        ("2026-11-26", Int64(1_795_651_200_000_000)),
    ])
    func parsesRFC3339Forms(text: String, microseconds: Int64) {
        #expect(Timestamp.parseRFC3339(text) == microseconds)
    }

    // Proves malformed times are refused rather than misread (a wrong audit instant is worse than an error).
    @Test(arguments: [
        "", "2026-11-26T03:14Z", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-26T24:00:00Z",
        "2026-11-26T03:14:00", "2026-11-26T03:14:00.Z", "2026-11-26T03:14:00Zjunk", "yesterday", "1969-12-31",
        "2026-11-26T03:14:00.1234567890Z",
    ])
    func refusesMalformedTimes(text: String) {
        #expect(Timestamp.parseRFC3339(text) == nil)
    }

    // Proves relative times count back from the injected now, and `now` itself.
    @Test func relativeTimesCountBackFromNow() throws {
        let now: Int64 = 1_795_662_840_000_000
        #expect(try TimeArgument.parse("-2h", nowMicroseconds: now) == now - 7_200_000_000)
        #expect(try TimeArgument.parse("-15m", nowMicroseconds: now) == now - 900_000_000)
        #expect(try TimeArgument.parse("-30s", nowMicroseconds: now) == now - 30_000_000)
        #expect(try TimeArgument.parse("-1d", nowMicroseconds: now) == now - 86_400_000_000)
        #expect(try TimeArgument.parse("-1h30m", nowMicroseconds: now) == now - 5_400_000_000)
        #expect(try TimeArgument.parse("now", nowMicroseconds: now) == now)
        #expect(throws: ReplayError.self) { try TimeArgument.parse("-2x", nowMicroseconds: now) }
        #expect(throws: ReplayError.self) { try TimeArgument.parse("03:14", nowMicroseconds: now) }
    }

    // Proves durations parse with units, decimals and compounds (the server's options and the tool's
    // windows share this parser), and that zero, signs, overflow and unknown units are refused.
    @Test func durationsParseWithLimits() {
        #expect(DurationText.parse("10m") == 600_000_000)
        #expect(DurationText.parse("500ms") == 500_000)
        #expect(DurationText.parse("1h30m") == 5_400_000_000)
        #expect(DurationText.parse("0s") == nil)
        #expect(DurationText.parse("10") == nil)
        #expect(DurationText.parse("10w") == nil)
        #expect(DurationText.parse("999999999999d") == nil)
        #expect(DurationText.parse("") == nil)
        #expect(DurationText.parse("1.5s") == 1_500_000)
        #expect(DurationText.parse("2m30s") == 150_000_000)
        #expect(DurationText.parse("250µs") == 250)
        #expect(DurationText.parse("36600d") == DurationText.microsecondsMax)
        #expect(DurationText.parse("36601d") == nil)
        #expect(DurationText.parse("1.5.5s") == nil)
        #expect(DurationText.parse("-1s") == nil)
    }
}
