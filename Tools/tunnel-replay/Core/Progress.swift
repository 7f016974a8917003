#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress line on stderr, only when stderr is a terminal, redrawn at most 4 times a second.
struct Progress {
    private static let ticksPerCheck: UInt64 = 1 << 16
    private static let redrawNanoseconds: UInt64 = 250_000_000
    private let label: String
    private let total: UInt64
    private let enabled: Bool
    private var done: UInt64 = 0
    private var lastDrawNanoseconds: UInt64 = 0
    private var drawn = false

    init(label: String, total: UInt64) {
        self.label = label
        self.total = total
        enabled = Diagnostics.stderrIsTerminal
        lastDrawNanoseconds = Self.monotonicNanoseconds()
    }

    mutating func tick() {
        done += 1
        guard enabled, done % Self.ticksPerCheck == 0 else { return }
        let now = Self.monotonicNanoseconds()
        guard now - lastDrawNanoseconds >= Self.redrawNanoseconds else { return }
        lastDrawNanoseconds = now
        drawn = true
        let percent = total > 0 ? " \(min(done * 100 / total, 100))%" : ""
        let sink = OutputSink(fileDescriptor: 2)
        sink.write("\r\(label):\(percent) \(done) of \(total) events")
        sink.flush()
    }

    /// Clears the progress line if one was drawn.
    mutating func finish() {
        guard drawn else { return }
        drawn = false
        let sink = OutputSink(fileDescriptor: 2)
        sink.write("\r\u{1B}[K")
        sink.flush()
    }

    static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
