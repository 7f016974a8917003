import ArgumentParser

/// `verify`: exit 0 when every segment and snapshot is sound, 1 with each problem otherwise.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every segment (or shared-log row) and snapshot; print each problem with its location; exit 1 if any."
    )

    @OptionGroup var common: CommonOptions

    func run() throws {
        let summary: Verifier.Summary
        switch try common.source() {
        case .directory(let directory):
            summary = Verifier(directory: directory, scan: try EventScan(directory: directory)).run()
        case .postgres(let log):
            summary = SharedLogVerifier(log: log).run()
        }
        let writer = common.writer(columns: VerifyProblem.columns)
        for problem in summary.problems { writer.write(problem.cells) }
        if common.format != .text || !summary.problems.isEmpty { writer.finish() }
        let verdict = summary.problems.isEmpty ? "healthy" : "\(summary.problems.count) problem(s)"
        Diagnostics.warn(
            "verify: \(summary.segments) segments, \(summary.records) records, \(summary.snapshots) snapshots: \(verdict)"
        )
        if !summary.problems.isEmpty { throw ReplayError.findings(count: summary.problems.count) }
    }
}
