import ArgumentParser
import Foundation
import Testing

@testable import tunnel_replay

/// `repair`, `report` and `export` take `--format` like every other command: json and csv print
/// rows on stdout (the operator's words and questions go to stderr); text keeps its prose.
@Suite struct FormatRowsTests {
    /// What the text plan of `repair` names, read back from its prose.
    private struct TextPlan {
        var file = ""
        var offset = -1
        var problem = ""
        var lastKept = -1
        var cutBytes = -1
        var setAside: [String] = []
        var snapshots: [String] = []

        init(_ text: String) {
            for line in text.split(separator: "\n").map(String.init) {
                if let match = line.firstMatch(of: /^Damage: (\S+) at offset (\d+): (.*)$/) {
                    file = String(match.1)
                    offset = Int(match.2) ?? -1
                    problem = String(match.3)
                } else if let match = line.firstMatch(of: /^  keep:  sequences up to (\d+)$/) {
                    lastKept = Int(match.1) ?? -1
                } else if line == "  keep:  no record" {
                    lastKept = 0
                } else if let match = line.firstMatch(of: /^  cut:   .*, (\d+) bytes$/) {
                    cutBytes = Int(match.1) ?? -1
                } else if let match = line.firstMatch(of: /^  set aside as \.broken \(never deleted\): (.*)$/) {
                    setAside = match.1.components(separatedBy: ", ")
                } else if let match = line.firstMatch(of: /^  snapshots after the cut, set aside as \.broken: (.*)$/) {
                    snapshots = match.1.components(separatedBy: ", ")
                }
            }
        }
    }

    /// The text plan of `fixture`, from a run that declines (so nothing changes).
    private func textPlan(_ fixture: String) throws -> TextPlan {
        let (root, data) = try ToolRunner.copyFixture(fixture)
        defer { try? FileManager.default.removeItem(at: root) }
        let declined = try ToolRunner.run(["repair", "--data-dir", data], input: "n\n")
        #expect(declined.status == 1, "\(declined.stderr)")
        let plan = TextPlan(declined.stdout)
        #expect(plan.offset >= 0 && !plan.file.isEmpty && !plan.setAside.isEmpty, "\(declined.stdout)")
        return plan
    }

    /// Checks a plan or repaired row against the text plan; `broken` for the names after repair.
    private func expect(_ row: [String: Any], equals plan: TextPlan, status: String, broken: Bool) {
        let suffix = broken ? ".broken" : ""
        #expect(row["status"] as? String == status, "\(row)")
        #expect(row["file"] as? String == plan.file, "\(row)")
        #expect(row["offset"] as? Int == plan.offset, "\(row)")
        #expect(row["problem"] as? String == plan.problem, "\(row)")
        #expect(row["last_kept_sequence"] as? Int == plan.lastKept, "\(row)")
        #expect(row["first_cut_sequence"] as? Int == plan.lastKept + 1, "\(row)")
        #expect(row["cut_bytes"] as? Int == plan.cutBytes, "\(row)")
        #expect(row["set_aside"] as? [String] == plan.setAside.map { $0 + suffix }, "\(row)")
        #expect(row["snapshots_set_aside"] as? [String] == plan.snapshots.map { $0 + suffix }, "\(row)")
    }

    // Proves repair --format json --yes prints a plan row naming the file, offset, problem, kept and
    // cut sequences and bytes the text plan names, then a repaired row whose set-aside files exist
    // and whose last_sequence is what the log now holds (the log verifies).
    @Test(arguments: ["corrupt-sealed", "torn-tail"])
    func repairJSONRowsMatchTheTextPlan(fixture: String) throws {
        let plan = try textPlan(fixture)
        let (root, data) = try ToolRunner.copyFixture(fixture)
        defer { try? FileManager.default.removeItem(at: root) }
        let output = try ToolRunner.run(["repair", "--data-dir", data, "--yes", "--format", "json"])
        #expect(output.status == 0, "\(output.stderr)")
        let rows = output.jsonLines
        #expect(rows.count == 2 && output.stdout.split(separator: "\n").count == 2, "\(output.stdout)")
        guard rows.count == 2 else { return }
        expect(rows[0], equals: plan, status: "plan", broken: false)
        #expect(rows[0]["last_sequence"] is NSNull, "\(rows[0])")
        expect(rows[1], equals: plan, status: "repaired", broken: true)
        for file in (rows[1]["set_aside"] as? [String] ?? []) + (rows[1]["snapshots_set_aside"] as? [String] ?? []) {
            #expect(FileManager.default.fileExists(atPath: data + "/" + file), "\(file)")
        }
        let events = try ToolRunner.run(["events", "--all", "--format", "json", "--data-dir", data])
        #expect(rows[1]["last_sequence"] as? Int == plan.lastKept)
        #expect((events.jsonLines.last?["seq"] as? Int ?? 0) == plan.lastKept, "\(events.stdout.suffix(300))")
        #expect(try ToolRunner.run(["verify", "--data-dir", data]).status == 0)
    }

    // Proves repair --format csv asks on stderr (stdout stays a clean table: header, plan row,
    // repaired row) and the cells carry the text plan's file, offset and bytes.
    @Test func repairCSVAsksOnStderr() throws {
        let plan = try textPlan("corrupt-sealed")
        let (root, data) = try ToolRunner.copyFixture("corrupt-sealed")
        defer { try? FileManager.default.removeItem(at: root) }
        let output = try ToolRunner.run(["repair", "--data-dir", data, "--format", "csv"], input: "y\n")
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr.contains("Cut the log? [y/N]") && output.stderr.contains("Damage: " + plan.file))
        #expect(!output.stdout.contains("Cut the log") && !output.stdout.contains("Damage:"))
        let table = CSV.rows(output.stdout)
        #expect(table.count == 3, "\(output.stdout)")
        guard table.count == 3 else { return }
        #expect(table[0].first == "status" && table[0].last == "last_sequence", "\(table[0])")
        let rows = table.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(table[0], $0)) }
        #expect(rows.map { $0["status"] } == ["plan", "repaired"])
        for row in rows {
            #expect(row["file"] == plan.file && row["offset"] == String(plan.offset), "\(row)")
            #expect(row["problem"] == plan.problem && row["cut_bytes"] == String(plan.cutBytes), "\(row)")
        }
        #expect(rows[0]["set_aside"] == plan.setAside.joined(separator: " "))
        #expect(rows[1]["set_aside"] == plan.setAside.map { $0 + ".broken" }.joined(separator: " "))
        #expect(rows[0]["last_sequence"] == "" && rows[1]["last_sequence"] == "0")
    }

    // Proves a declined repair in json prints only the plan row on stdout and changes nothing (exit 1).
    @Test func repairJSONDeclined() throws {
        let (root, data) = try ToolRunner.copyFixture("corrupt-sealed")
        defer { try? FileManager.default.removeItem(at: root) }
        let listing = try FileManager.default.contentsOfDirectory(atPath: data + "/log").sorted()
        let output = try ToolRunner.run(["repair", "--data-dir", data, "--format", "json"], input: "n\n")
        #expect(output.status == 1)
        #expect(output.jsonLines.map { $0["status"] as? String } == ["plan"], "\(output.stdout)")
        #expect(output.stdout.split(separator: "\n").count == 1, "\(output.stdout)")
        #expect(output.stderr.contains("Cut the log? [y/N]"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/log").sorted() == listing)
    }

    // Proves a healthy log gives one healthy row in json and in csv, and nothing else on stdout.
    @Test func repairHealthyRow() throws {
        let healthy = ToolRunner.fixture("healthy")
        let json = try ToolRunner.run(["repair", "--data-dir", healthy, "--format", "json"], input: "")
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.split(separator: "\n").count == 1)
        let row = try #require(json.jsonLines.first)
        #expect(row["status"] as? String == "healthy" && row["cut_bytes"] as? Int == 0, "\(row)")
        #expect(row["file"] is NSNull && (row["set_aside"] as? [String])?.isEmpty == true, "\(row)")
        let csv = try ToolRunner.run(["repair", "--data-dir", healthy, "--format", "csv"], input: "")
        #expect(csv.status == 0, "\(csv.stderr)")
        let table = CSV.rows(csv.stdout)
        #expect(table.count == 2 && table[1].first == "healthy", "\(csv.stdout)")
    }

    // Proves --format text (the default, and when given) keeps repair's prose exactly.
    @Test func repairTextUnchanged() throws {
        let (root, data) = try ToolRunner.copyFixture("corrupt-sealed")
        defer { try? FileManager.default.removeItem(at: root) }
        let output = try ToolRunner.run(["repair", "--data-dir", data, "--yes", "--format", "text"])
        #expect(output.status == 0, "\(output.stderr)")
        let segments = ["00000000000000000001", "00000000000000000069", "00000000000000000139"].map { "log/\($0).seg" }
        let snapshots = ["00000000000000000069", "00000000000000000140"].map { "snapshots/\($0).snap" }
        let expected = """
            Damage: log/00000000000000000001.seg at offset 64: payload checksum 0x3d683c21 != stored 0xc060205d
            Repair will cut the log there:
              keep:  no record
              cut:   sequences 1 to 140 (140 records), 1185 bytes
              set aside as .broken (never deleted): \(segments.joined(separator: ", "))
              snapshots after the cut, set aside as .broken: \(snapshots.joined(separator: ", "))
            Repaired: the log now ends at sequence 0; set aside: \
            \((segments + snapshots).map { $0 + ".broken" }.joined(separator: ", ")).

            """
        #expect(output.stdout == expected)
        let healthy = ToolRunner.fixture("healthy")
        #expect(
            try ToolRunner.run(["repair", "--data-dir", healthy]).stdout
                == "The log in '\(healthy)/log' is healthy: nothing to cut.\n"
        )
    }

    // Proves no command's --help discussion breaks a line inside a sentence: ArgumentParser wraps
    // the text itself, so a hard newline may only end a sentence or a paragraph.
    @Test func helpDiscussionsBreakOnlyBetweenSentences() {
        let commands = [TunnelReplay.self] + TunnelReplay.configuration.subcommands
        for command in commands {
            let lines = command.configuration.discussion.split(separator: "\n", omittingEmptySubsequences: false)
            for (line, next) in zip(lines, lines.dropFirst()) where !line.isEmpty && !next.isEmpty {
                #expect(line.hasSuffix("."), "\(command.configuration.commandName ?? "?"): '\(line)' / '\(next)'")
            }
        }
        #expect(commands.count >= 13)
    }

    /// A small generated log, made once: several tunnels, nodes and sessions.
    static let generated: String = {
        let directory = (try? ToolRunner.temporaryDirectory())?.appendingPathComponent("report").path ?? "/nonexistent"
        _ = try? ToolRunner.run([
            "generate", "--scenario", "bench", "--events", "3000", "--connectors", "60", "--snapshot-every", "0",
            "--out", directory,
        ])
        return directory
    }()

    // Proves report --format json|csv writes the page and prints one row: the file and its size, and
    // the range, tunnels, sessions and events that events and sessions count on the same log.
    @Test(arguments: ["json", "csv"])
    func reportRow(format: String) throws {
        let data = Self.generated
        let events = try ToolRunner.run(["events", "--all", "--format", "json", "--data-dir", data]).jsonLines
        let sessions = try ToolRunner.run(["sessions", "--format", "json", "--data-dir", data]).jsonLines
        try #require(events.count == 3000 && sessions.count > 60, "\(events.count) events, \(sessions.count) sessions")
        let root = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("report.html").path
        let output = try ToolRunner.run(["report", "--data-dir", data, "-o", file, "--format", format])
        #expect(output.status == 0, "\(output.stderr)")
        let row: [String: String]
        if format == "json" {
            #expect(output.stdout.split(separator: "\n").count == 1)
            row = (output.jsonLines.first ?? [:]).mapValues { "\($0)" }
        } else {
            let table = CSV.rows(output.stdout)
            #expect(table.count == 2, "\(output.stdout)")
            row = table.count == 2 ? Dictionary(uniqueKeysWithValues: zip(table[0], table[1])) : [:]
        }
        let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int
        #expect(row["file"] == file && row["bytes"] == size.map(String.init), "\(row)")
        #expect(row["events"] == "3000" && row["sessions"] == String(sessions.count), "\(row)")
        let tunnels = Set(sessions.compactMap { $0["name"] as? String }).count
        let nodes = Set(sessions.compactMap { $0["node"] as? String }).count
        #expect(row["tunnels"] == String(tunnels) && row["nodes"] == String(nodes), "\(row)")
        #expect(row["start"] == events.first?["time"] as? String && row["end"] == events.last?["time"] as? String)
        #expect(row["flaps"].flatMap { Int($0) } != nil, "\(row)")
    }

    // Proves report in text prints the summary as a table (header and one row) naming the file.
    @Test func reportTextTable() throws {
        let root = try ToolRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("report.html").path
        let output = try ToolRunner.run(["report", "--data-dir", ToolRunner.fixture("healthy"), "-o", file])
        #expect(output.status == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("FILE") && lines[1].hasPrefix(file), "\(output.stdout)")
        #expect(lines.last?.contains(" 140 ") == true, "\(output.stdout)")
    }
}

/// RFC 4180 CSV, enough for the tool's output: quoted cells, doubled quotes, newlines in quotes.
enum CSV {
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            if quoted {
                guard character == "\"" else {
                    cell.append(character)
                    continue
                }
                if index < characters.count, characters[index] == "\"" {
                    cell.append("\"")
                    index += 1
                } else {
                    quoted = false
                }
                continue
            }
            switch character {
            case "\"": quoted = true
            case ",":
                row.append(cell)
                cell = ""
            case "\n":
                rows.append(row + [cell])
                row = []
                cell = ""
            default: cell.append(character)
            }
        }
        if !cell.isEmpty || !row.isEmpty { rows.append(row + [cell]) }
        return rows
    }
}
