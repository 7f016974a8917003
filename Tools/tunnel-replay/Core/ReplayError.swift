/// Why the tool stops, and the exit code that tells a script which kind of failure it was.
enum ReplayError: Error, CustomStringConvertible {
    /// A mistake in the command line: exit 2.
    case usage(String)
    /// The data directory cannot be read (missing, not a log, permission): exit 2.
    case unreadable(String)
    /// The command ran and found problems (verify): exit 1. The problems are already printed.
    case findings(count: Int)
    /// The log could be opened but reading it failed part-way: exit 2.
    case readFailed(String)

    var exitCode: Int32 {
        switch self {
        case .findings: return 1
        case .usage, .unreadable, .readFailed: return 2
        }
    }

    var description: String {
        switch self {
        case .usage(let message): return message
        case .unreadable(let message): return message
        case .findings(let count): return "\(count) problem\(count == 1 ? "" : "s") found"
        case .readFailed(let message): return message
        }
    }
}
