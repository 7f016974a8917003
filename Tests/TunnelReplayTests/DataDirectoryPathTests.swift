import Foundation
import Testing

/// `--data-dir DIR/` (a shell's completion of a directory) means the same as `--data-dir DIR`.
@Suite struct DataDirectoryPathTests {
    // Proves verify finds and names each problem once, as `log/...`, whether the data directory is
    // given with a trailing slash or without: with one it listed the damage twice, as `/log/...`.
    @Test func verifyIgnoresATrailingSlash() throws {
        let directory = ToolRunner.fixture("corrupt-sealed")
        let plain = try ToolRunner.run(["verify", "--format", "csv", "--data-dir", directory])
        let slashed = try ToolRunner.run(["verify", "--format", "csv", "--data-dir", directory + "/"])
        #expect(plain.status == 1)
        #expect(slashed.status == 1)
        #expect(slashed.stdout == plain.stdout, "with a slash:\n\(slashed.stdout)\nwithout:\n\(plain.stdout)")
        let rows = plain.stdout.split(separator: "\n").dropFirst()
        #expect(rows.count == 1, "\(plain.stdout)")
        #expect(rows.allSatisfy { $0.hasPrefix("log/") })
    }

    // Proves the read commands answer the same with a trailing slash.
    @Test func readCommandsIgnoreATrailingSlash() throws {
        let directory = ToolRunner.fixture("healthy")
        for command in [["events", "--all"], ["sessions"], ["stats"], ["verify"]] {
            let plain = try ToolRunner.run(command + ["--format", "json", "--data-dir", directory])
            let slashed = try ToolRunner.run(command + ["--format", "json", "--data-dir", directory + "//"])
            #expect(plain.status == 0, "\(command): \(plain.stderr)")
            #expect(slashed.stdout == plain.stdout, "\(command)")
            #expect(slashed.status == plain.status, "\(command)")
        }
    }
}
