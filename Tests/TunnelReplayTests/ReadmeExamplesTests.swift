import Foundation
import Testing

@testable import tunnel_replay

/// The README's replay examples run as written against the sample log and show data.
@Suite struct ReadmeExamplesTests {
    /// `$R ... $D ...` lines of the README's replay section, comments cut, `follow` left out (it
    /// runs until interrupted).
    static func examples() throws -> [[String]] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = text.components(separatedBy: "<!-- section: replay -->").last?
            .components(separatedBy: "<!-- /section: replay -->").first ?? ""
        return section.split(separator: "\n").compactMap { line -> [String]? in
            guard line.hasPrefix("$R "), line.contains("$D") else { return nil }
            let command = line.prefix { $0 != "#" }.split(separator: " ").dropFirst().map(String.init)
            return command.first == "follow" ? nil : command
        }
    }

    // Proves every example names the sample log and prints rows (verify: "healthy"; report: bars).
    @Test func examplesShowData() throws {
        let examples = try Self.examples()
        #expect(examples.count >= 9)
        let directory = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = directory.appendingPathComponent("report.html").path
        for example in examples {
            let arguments = example.map { $0 == "$D" ? ToolRunner.fixture("healthy") : $0 == "report.html" ? report : $0 }
            // The real clock: the examples must not depend on when they run.
            let output = try ToolRunner.run(arguments, environment: ["TUNNEL_REPLAY_NOW": "2030-01-01T00:00:00Z"])
            #expect(output.status == 0, "\(example): \(output.stderr)")
            switch example.first {
            case "verify":
                #expect(output.stderr.contains("healthy"), "\(output.stderr)")
            case "report":
                let html = try String(contentsOfFile: report, encoding: .utf8)
                #expect(html.contains("<title>web</title>web</text>"))
            default:
                let lines = output.stdout.split(separator: "\n")
                let header = example.contains("json") ? 0 : 1
                #expect(lines.count > header, "\(example) printed no rows: \(output.stdout)")
            }
        }
    }
}
