import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--data-dir` or `--postgres`, and `--format`, shared by every command.
struct CommonOptions: ParsableArguments {
    @OptionGroup var log: LogSourceOptions
    @OptionGroup var outputFormat: FormatOptions

    var format: OutputFormat { outputFormat.format }

    func source() throws(ReplayError) -> LogSource {
        try log.source()
    }

    func writer(columns: [String]) -> RowWriter {
        outputFormat.writer(columns: columns)
    }
}

/// `--format text|json|csv`: every command takes it, also those with their own source options
/// (`report`, `export`, `repair`).
struct FormatOptions: ParsableArguments {
    @Option(name: .long, help: "Output: text (aligned table), json (one object per line) or csv.")
    var format: OutputFormat = .text

    func writer(columns: [String]) -> RowWriter {
        RowWriter(format: format, columns: columns, sink: OutputSink())
    }
}

/// Where the records come from: `--data-dir DIR` (default `./data`) or `--postgres URL`.
struct LogSourceOptions: ParsableArguments {
    @Option(name: .long, help: "The registry's data directory (holding log/ and snapshots/); default ./data.")
    var dataDir: String?

    @Option(
        name: .long,
        help: "Read a cluster's shared log in PostgreSQL instead (postgres://user:pass@host:5432/db?sslmode=require)."
    )
    var postgres: String?

    func source() throws(ReplayError) -> LogSource {
        switch (dataDir, postgres) {
        case (_?, _?):
            throw .usage("give one of --data-dir DIR or --postgres URL, not both (export takes both: see its help)")
        case (nil, let url?):
            return .postgres(try PostgresLog.open(url: url))
        case (let path, nil):
            return .directory(try DataDirectory(path: path ?? "./data"))
        }
    }
}

/// `--since` and `--until`: RFC 3339 or relative to now (`-2h`).
struct RangeOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: "Start of the range: RFC 3339 (2026-11-26T03:14:00Z) or relative (-2h, -15m, -30s, -1d)."
    )
    var since: String?

    @Option(parsing: .unconditional, help: "End of the range (inclusive), same forms as --since.")
    var until: String?

    /// The bounds in microseconds; throws a usage error when unreadable or reversed.
    func resolve() throws(ReplayError) -> (since: Int64?, until: Int64?) {
        let now = try WallClock.nowMicroseconds()
        let sinceValue = try since.map { (text) throws(ReplayError) in
            try TimeArgument.parse(text, nowMicroseconds: now)
        }
        let untilValue = try until.map { (text) throws(ReplayError) in
            try TimeArgument.parse(text, nowMicroseconds: now)
        }
        if let sinceValue, let untilValue, untilValue < sinceValue {
            throw .usage(
                "--until \(Timestamp.format(untilValue)) is before --since \(Timestamp.format(sinceValue)):"
                    + " swap them"
            )
        }
        return (sinceValue, untilValue)
    }
}

/// Filters on the service fields of events.
struct ServiceFilterOptions: ParsableArguments {
    @Option(help: "Only this tunnel (the service name).")
    var name: String?

    @Option(help: "Only this node (a GOST server's node id).")
    var node: String?
}

/// The wall clock; `TUNNEL_REPLAY_NOW` (RFC 3339) pins it so relative times are reproducible.
enum WallClock {
    static func nowMicroseconds() throws(ReplayError) -> Int64 {
        if let pinned = getenv("TUNNEL_REPLAY_NOW") {
            let text = String(cString: pinned)
            guard let value = Timestamp.parseRFC3339(text) else {
                throw .usage("TUNNEL_REPLAY_NOW='\(text)' is not RFC 3339: unset it or write 2026-11-26T03:14:00Z")
            }
            return value
        }
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }
}
