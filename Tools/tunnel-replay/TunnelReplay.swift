import ArgumentParser
import EventLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `tunnel-replay`: audits a TunnelRegistry data directory offline, or a cluster's shared log in
/// PostgreSQL, read-only.
///
/// `main` is synchronous: the read commands run on the main thread (no hop to the concurrency
/// pool, and valgrind can profile them); the one async command (`generate`) is bridged.
@main
struct TunnelReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tunnel-replay",
        abstract: "Audit and replay a TunnelRegistry event log (read-only; safe while the server runs).",
        discussion: """
            Exit codes: 0 ok, 1 findings (verify), 2 usage error, unreadable data directory or database.
            Times: RFC 3339 (2026-11-26T03:14:00Z) or relative to now (-2h, -15m, -30s, -1d).
            """,
        version: TunnelRegistryVersion.text,
        subcommands: [
            EventsCommand.self, SessionsCommand.self, StateCommand.self, TimelineCommand.self,
            FlapsCommand.self, NodesCommand.self, StatsCommand.self, VerifyCommand.self,
            ReportCommand.self, FollowCommand.self, ExportCommand.self, RepairCommand.self, GenerateCommand.self,
        ]
    )

    /// Parses and runs a command, mapping failures to the documented exit codes.
    static func main() {
        AllocatorTuning.restartWithHugePages()
        AllocatorTuning.apply()
        let code = run(arguments: Array(CommandLine.arguments.dropFirst()))
        Glibc.exit(code)
    }

    static func run(arguments: [String]) -> Int32 {
        defer { PostgresLog.closeAll() }
        do {
            var command = try parseAsRoot(arguments)
            if let asyncCommand = command as? any AsyncParsableCommand {
                try AsyncBridge.run(asyncCommand)
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

/// Runs an async command to completion from synchronous code, blocking the calling thread.
enum AsyncBridge {
    private final class Box: @unchecked Sendable {
        var command: any AsyncParsableCommand
        var failure: (any Error)?
        var done = false
        let condition = ThreadCondition()

        init(_ command: any AsyncParsableCommand) {
            self.command = command
        }
    }

    static func run(_ command: any AsyncParsableCommand) throws {
        let box = Box(command)
        Task.detached {
            var failure: (any Error)?
            do {
                try await box.command.run()
            } catch {
                failure = error
            }
            box.condition.withLock {
                box.failure = failure
                box.done = true
                box.condition.broadcast()
            }
        }
        try box.condition.withLock {
            while !box.done { box.condition.wait() }
            if let failure = box.failure { throw failure }
        }
    }
}
