/// Small statistics and number formatting shared by the benchmarks under `Tools/`.

/// The median of `values` (the upper one of an even count); 0 when empty.
public func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

/// The nearest-rank percentile of `values` (`fraction` 0...1); 0 when empty.
public func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((Double(sorted.count) * fraction).rounded(.up)) - 1
    return sorted[min(sorted.count - 1, max(0, rank))]
}

/// `value` with exactly `decimals` digits after the point, without Foundation's locale.
public func format(_ value: Double, _ decimals: Int = 3) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let whole = scaled / Int64(scale)
    guard decimals > 0 else { return "\(whole)" }
    let fraction = String(abs(scaled % Int64(scale)))
    let sign = value < 0 && whole == 0 && scaled != 0 ? "-" : ""
    return sign + "\(whole)." + String(repeating: "0", count: max(0, decimals - fraction.count)) + fraction
}

/// A duration in seconds.
public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Nanoseconds as milliseconds.
public func milliseconds(_ nanos: UInt64) -> Double { Double(nanos) / 1e6 }
