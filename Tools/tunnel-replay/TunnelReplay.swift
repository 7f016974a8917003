import ArgumentParser
import EventLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `tunnel-replay`: audits a TunnelRegistry data directory offline and read-only.
@main
struct TunnelReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tunnel-replay",
        abstract: "Audit and replay a TunnelRegistry event log (read-only; safe while the server runs).",
        discussion: """
            Exit codes: 0 ok, 1 findings (verify), 2 usage error or unreadable data directory.
            Times: RFC 3339 (2026-11-26T03:14:00Z) or relative to now (-2h, -15m, -30s, -1d).
            """,
        version: TunnelRegistryVersion.text,
        subcommands: [
            EventsCommand.self, SessionsCommand.self, StateCommand.self, TimelineCommand.self,
            FlapsCommand.self, NodesCommand.self, StatsCommand.self, VerifyCommand.self,
            ReportCommand.self, FollowCommand.self, GenerateCommand.self,
        ]
    )

    /// Parses and runs a command, mapping failures to the documented exit codes.
    static func main() async {
        let code = await run(arguments: Array(CommandLine.arguments.dropFirst()))
        Glibc.exit(code)
    }

    static func run(arguments: [String]) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error as ReplayError {
            if case .findings = error {} else { Diagnostics.warn(error.description) }
            return error.exitCode
        } catch {
            if exitCode(for: error) == .success {
                let sink = OutputSink()
                sink.write(fullMessage(for: error) + "\n")
                sink.flush()
                return 0
            }
            Diagnostics.warn(fullMessage(for: error) + "\n(see tunnel-replay help <command>)")
            return 2
        }
    }
}
