#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress line on stderr, only when stderr is a terminal and the scan has run for 2 s,
/// redrawn at most 4 times a second.
struct Progress {
    private static let ticksPerCheck: UInt64 = 1 << 16
    private static let redrawNanoseconds: UInt64 = 250_000_000
    /// Scans shorter than this print nothing.
    static let quietNanoseconds: UInt64 = 2_000_000_000
    private let label: String
    private let total: UInt64
    private let enabled: Bool
    private var done: UInt64 = 0
    private var lastDrawNanoseconds: UInt64 = 0
    private let startNanoseconds: UInt64
    private var drawn = false

    init(label: String, total: UInt64) {
        self.label = label
        self.total = total
        enabled = Diagnostics.stderrIsTerminal
        startNanoseconds = Self.monotonicNanoseconds()
        lastDrawNanoseconds = startNanoseconds
    }

    mutating func tick() {
        advance(by: 1)
    }

    /// Counts `count` more records done (a whole batch at once).
    mutating func advance(by count: Int) {
        let before = done
        done += UInt64(count)
        guard enabled, before / Self.ticksPerCheck != done / Self.ticksPerCheck else { return }
        let now = Self.monotonicNanoseconds()
        guard now - startNanoseconds >= Self.quietNanoseconds, now - lastDrawNanoseconds >= Self.redrawNanoseconds
        else { return }
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
