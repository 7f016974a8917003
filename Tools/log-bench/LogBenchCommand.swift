import ArgumentParser

/// `log-bench`: measures the event log on the registry's reference workload.
@main
struct LogBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-bench",
        abstract: "Measure EventLog append, compression and replay on the registry's reference workload.",
        subcommands: [BenchCommand.self, CrashChildCommand.self, RetentionCommand.self],
        defaultSubcommand: BenchCommand.self
    )
}
