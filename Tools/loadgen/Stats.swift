import Registry
import Histogram
import BenchSupport

/// Latencies (µs) and failures of one kind of call, per worker; merged at the end.
struct CallStats: Sendable {
    var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    var failures = 0

    mutating func record(since start: ContinuousClock.Instant, ok: Bool) {
        let elapsed = ContinuousClock.now - start
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        _ = latencies.record(UInt64(max(1, min(micros, 60_000_000))))
        if !ok { failures += 1 }
    }

    mutating func merge(_ other: CallStats) {
        latencies.add(other.latencies)
        failures += other.failures
    }
}

/// Stats per call kind (register, renew, deregister, get).
struct RunStats: Sendable {
    var calls: [String: CallStats] = [:]

    mutating func record(_ call: String, since start: ContinuousClock.Instant, ok: Bool) {
        calls[call, default: CallStats()].record(since: start, ok: ok)
    }

    mutating func merge(_ other: RunStats) {
        for (call, stats) in other.calls {
            calls[call, default: CallStats()].merge(stats)
        }
    }

    /// One line per call kind: count, rate, failures, p50/p99/p999 in ms.
    func report(seconds: Double) -> String {
        var lines = ["call          requests   req/s     failed   p50 ms   p99 ms   p999 ms   max ms"]
        var total: UInt64 = 0
        for call in calls.keys.sorted() {
            let stats = calls[call]!
            let count = stats.latencies.totalCount
            total += count
            lines.append(
                [
                    pad(call, 12), pad("\(count)", 10), pad(format(Double(count) / seconds, 0), 9),
                    pad("\(stats.failures)", 8), pad(ms(stats.latencies.valueAtPercentile(50)), 8),
                    pad(ms(stats.latencies.valueAtPercentile(99)), 8), pad(ms(stats.latencies.valueAtPercentile(99.9)), 9),
                    pad(ms(stats.latencies.max), 8),
                ].joined(separator: " ")
            )
        }
        lines.append("total \(total) requests in \(format(seconds, 2)) s = \(format(Double(total) / seconds, 0)) req/s")
        return lines.joined(separator: "\n")
    }

    private func ms(_ micros: UInt64) -> String { format(Double(micros) / 1000, 3) }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

extension SplitMix64 {
    /// A UUID-shaped hex id, like GOST's connector and node ids.
    mutating func uuid() -> String {
        let hex = Array("0123456789abcdef")
        var text = ""
        for index in 0..<32 {
            if [8, 12, 16, 20].contains(index) { text.append("-") }
            text.append(hex[Int(next() & 15)])
        }
        return text
    }
}
