import ArgumentParser
import Registry
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Set by SIGINT/SIGTERM so `follow` ends after printing what it has.
let followInterrupted = Atomic<Bool>(false)

/// `follow`: prints events as the server appends them, until interrupted.
struct FollowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow",
        abstract: "Print new events as they are appended, until interrupted (Ctrl-C)."
    )

    static let pollMicroseconds: UInt32 = 100_000

    @OptionGroup var common: CommonOptions
    @OptionGroup var service: ServiceFilterOptions
    @Option(help: "Only this connector id.") var id: String?
    @Option(help: "Only these kinds, comma-separated.") var kind: String?
    @Flag(help: "Also print control records (start, stall).") var all = false
    @Option(parsing: .unconditional, help: "Start at this time (RFC 3339 or -15m) instead of the end of the log.")
    var since: String?

    func run() throws {
        let filter = try EventFilter(
            name: service.name,
            id: id,
            node: service.node,
            kinds: EventRow.parseKinds(kind),
            includeControl: all
        )
        let scan = try EventScan(source: common.source())
        let start: ScanStart
        if let since {
            start = .time(try TimeArgument.parse(since, nowMicroseconds: try WallClock.nowMicroseconds()))
        } else {
            start = .sequence(scan.lastSequence() + 1)
        }
        let writer = common.writer(columns: EventRow.columns)
        Self.catchStopSignals()
        if let postgres = scan.postgres {
            try Self.follow(postgres, from: start, filter: filter, writer: writer)
            return
        }
        var cursor = try scan.makeCursor(start)
        while !followInterrupted.load(ordering: .relaxed) {
            var printed = false
            while let event = try scan.next(&cursor) {
                if filter.matches(event) {
                    writer.writeEvent(event)
                    printed = true
                }
                if followInterrupted.load(ordering: .relaxed) { break }
            }
            if printed { writer.flushNow() }
            usleep(Self.pollMicroseconds)
        }
        writer.finish()
    }

    static func catchStopSignals() {
        signal(SIGINT) { _ in followInterrupted.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in followInterrupted.store(true, ordering: .relaxed) }
        // A parent may have started us with these blocked (the mask is inherited): unblock them.
        var stops = sigset_t()
        sigemptyset(&stops)
        sigaddset(&stops, SIGINT)
        sigaddset(&stops, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stops, nil)
    }

    /// Polls the shared log for records after the last one printed, every `pollMicroseconds`.
    static func follow(_ postgres: PostgresLog, from start: ScanStart, filter: EventFilter, writer: RowWriter) throws {
        var next: UInt64
        switch start {
        case .beginning: next = 1
        case .sequence(let sequence): next = sequence
        case .time(let time): next = try postgres.firstSequence(atOrAfter: time) ?? postgres.head().sequence + 1
        }
        while !followInterrupted.load(ordering: .relaxed) {
            var printed = false
            try postgres.read(fromSequence: next) { record in
                let event = try EventCodec.decode(record)
                next = record.sequence + 1
                if filter.matches(event) {
                    writer.writeEvent(event)
                    printed = true
                }
                return !followInterrupted.load(ordering: .relaxed)
            }
            if printed { writer.flushNow() }
            usleep(pollMicroseconds)
        }
        writer.finish()
    }
}
