import Foundation
import Registry
import Testing

@testable import tunnel_replay

/// Black-box tests: the built binary against `Fixtures/replay/healthy`, compared with the
/// scripted history's known answers (see `Fixtures/replay/README.md`).
@Suite struct FixtureCommandTests {
    let healthy = ToolRunner.fixture("healthy")

    private func at(_ seconds: Double) -> String { Timestamp.format(fixtureSeconds(seconds)) }

    // Proves the registry logged exactly the scripted history and events prints every field of it.
    @Test func eventsAreTheScriptedHistory() throws {
        let output = try ToolRunner.run(["events", "--all", "--format", "json", "--data-dir", healthy])
        #expect(output.status == 0)
        let expected = [RegistryEvent].fixtureHistory()
        let lines = output.jsonLines
        #expect(lines.count == expected.count)
        for (line, event) in zip(lines, expected) {
            #expect(line["seq"] as? Int == Int(event.sequence))
            #expect(line["time"] as? String == Timestamp.format(event.timeMicroseconds))
            #expect(line["kind"] as? String == event.kind.rawValue)
            #expect(line["id"] as? String == event.service.id)
            #expect(line["name"] as? String == event.service.name)
            #expect(line["node"] as? String == event.service.node)
            #expect(line["network"] as? String == event.service.network)
            #expect(line["address"] as? String == event.service.address)
            #expect(line["peer"] as? String == event.peer)
        }
        #expect(lines.first.map { Array($0.keys).sorted() } == EventRow.columns.sorted())
    }

    // Proves the filters: name, kind, node, id, time range, and that control records need --all.
    @Test func eventFilters() throws {
        func count(_ arguments: [String]) throws -> Int {
            let output = try ToolRunner.run(["events", "--format", "json", "--data-dir", healthy] + arguments)
            #expect(output.status == 0, "\(arguments): \(output.stderr)")
            return output.jsonLines.count
        }
        #expect(try count(["--name", "web", "--kind", "register"]) == 4)
        #expect(try count(["--kind", "expire"]) == 3)
        #expect(try count(["--kind", "start"]) == 1)
        #expect(try count(["--node", "node-b"]) == 2 + 8 + 2)
        #expect(try count(["--id", "api-a1", "--kind", "renew"]) == 5 + 21)
        #expect(try count(["--since", at(100), "--until", at(110)]) == 1 + 2)
        let all = try count(["--all"])
        #expect(try count([]) == all - 1)
    }

    // Proves sessions: one row per connector session with the known starts, ends, reasons and renews.
    @Test func sessionsAreTheKnownAnswers() throws {
        let output = try ToolRunner.run(["sessions", "--format", "json", "--data-dir", healthy])
        #expect(output.status == 0)
        let rows = output.jsonLines.map { row in
            [
                row["id"], row["node"], row["start"], row["end"] is NSNull ? "-" : row["end"], row["end_reason"],
                row["renews"], row["max_gap_s"],
            ].map { "\($0 ?? "?")" }.joined(separator: " ")
        }
        let expected: [(String, String, Double, Double?, String, Int)] = [
            ("web-a1", "node-a", 0, 400, "deregister", 26), ("web-b1", "node-b", 1, 106, "expire", 4),
            ("db-b1", "node-b", 2, 107, "expire", 4), ("api-a1", "node-a", 3, 123, "expire", 5),
            ("web-c1", "node-c", 120, nil, "live", 22), ("db-c1", "node-c", 121, nil, "live", 21),
            ("api-a1", "node-a", 138, nil, "live", 20), ("flap-1", "node-a", 200, 230, "deregister", 1),
            ("flap-2", "node-a", 240, 260, "deregister", 1), ("flap-3", "node-a", 270, 300, "deregister", 1),
            ("flap-4", "node-a", 310, 330, "deregister", 1), ("flap-5", "node-a", 340, nil, "live", 7),
            ("web-a2", "node-a", 401, nil, "live", 3),
        ]
        #expect(
            rows
                == expected.map { id, node, start, end, reason, renews in
                    "\(id) \(node) \(at(start)) \(end.map(at) ?? "-") \(reason) \(renews) 15"
                }
        )
        let revived = output.jsonLines.filter { $0["id"] as? String == "api-a1" }.last
        #expect(revived?["address"] as? String == "10.0.0.1:8080")
        #expect(revived?["network"] as? String == "tcp")
    }

    // Proves sessions --name/--node/--since/--until keep the overlapping sessions only.
    @Test func sessionFilters() throws {
        let output = try ToolRunner.run(
            [
                "sessions", "--format", "json", "--data-dir", healthy, "--name", "web", "--since", at(110), "--until",
                at(125),
            ])
        #expect(output.jsonLines.compactMap { $0["id"] as? String } == ["web-a1", "web-c1"])
        let nodeB = try ToolRunner.run(["sessions", "--format", "json", "--data-dir", healthy, "--node", "node-b"])
        #expect(nodeB.jsonLines.compactMap { $0["id"] as? String } == ["web-b1", "db-b1"])
    }

    // Proves timeline: web's windows per node, with null ends while up.
    @Test func timelineOfWeb() throws {
        let output = try ToolRunner.run(["timeline", "--name", "web", "--format", "json", "--data-dir", healthy])
        let rows = output.jsonLines.map {
            "\($0["node"] ?? "") \($0["start"] ?? "") \($0["end"] is NSNull ? "-" : $0["end"] ?? "")"
        }
        #expect(
            rows == [
                "node-a \(at(0)) \(at(400))", "node-b \(at(1)) \(at(106))", "node-c \(at(120)) -",
                "node-a \(at(401)) -",
            ]
        )
    }

    // Proves flaps finds flappy (4 reconnects in 10 minutes) and honours --window and --min.
    @Test func flaps() throws {
        let output = try ToolRunner.run(["flaps", "--format", "json", "--data-dir", healthy])
        #expect(output.jsonLines.count == 1)
        let flap = output.jsonLines.first
        #expect(flap?["name"] as? String == "flappy")
        #expect(flap?["reconnects"] as? Int == 4)
        #expect(flap?["first"] as? String == at(240))
        #expect(flap?["last"] as? String == at(340))
        #expect((flap?["times"] as? [String])?.count == 4)
        let narrow = try ToolRunner.run(["flaps", "--format", "json", "--window", "1m", "--data-dir", healthy])
        #expect(narrow.jsonLines.isEmpty)
        let loose = try ToolRunner.run([
            "flaps", "--format", "json", "--window", "1h", "--min", "2", "--data-dir", healthy,
        ])
        #expect(loose.jsonLines.compactMap { $0["name"] as? String }.sorted() == ["flappy", "web"])
    }

    // Proves nodes: node-b went silent (crash) at its last renew, node-a and node-c are up.
    @Test func nodes() throws {
        let output = try ToolRunner.run(["nodes", "--format", "json", "--data-dir", healthy])
        let rows = output.jsonLines
        #expect(rows.compactMap { $0["node"] as? String } == ["node-a", "node-b", "node-c"])
        #expect(rows.compactMap { $0["status"] as? String } == ["up", "silent", "up"])
        #expect(rows.compactMap { $0["live"] as? Int } == [3, 0, 2])
        #expect(rows[1]["silent_since"] as? String == at(62))
        #expect(rows[1]["lapsed_at"] as? String == at(107))
        #expect(rows[0]["silent_since"] is NSNull)
    }

    // Proves stats is one object with the fixed fields, the time span from the headers, and
    // by_kind counted on a log of builds before the tally (its records read); --by-kind, kept for
    // scripts, prints the same.
    @Test func stats() throws {
        let output = try ToolRunner.run(["stats", "--format", "json", "--data-dir", healthy])
        #expect(output.status == 0, "\(output.stderr)")
        let row = try #require(output.jsonLines.first)
        #expect(output.jsonLines.count == 1)
        #expect(Array(row.keys).sorted() == LogStats.columns.sorted())
        let flagged = try ToolRunner.run(["stats", "--by-kind", "--format", "json", "--data-dir", healthy])
        #expect(flagged.stdout == output.stdout)
        let expected = [RegistryEvent].fixtureHistory()
        #expect(row["events"] as? Int == expected.count)
        let byKind = row["by_kind"] as? [String: Int]
        #expect(byKind?["expire"] == 3 && byKind?["start"] == 1 && byKind?["register"] == 12)
        for kind in EventKind.allCases {
            #expect(byKind?[kind.rawValue] == expected.filter { $0.kind == kind }.count, "\(kind)")
        }
        #expect((row["segments"] as? Int ?? 0) >= 2)
        #expect((row["bytes"] as? Int ?? 0) > 0)
        #expect(row["first"] as? String == at(0))
        #expect(row["last"] as? String == at(450))
    }

    // Proves csv and text outputs carry the same fixed columns.
    @Test func csvAndTextHeaders() throws {
        let csv = try ToolRunner.run(["events", "--format", "csv", "--data-dir", healthy, "--kind", "expire"])
        #expect(csv.stdout.split(separator: "\n").first == "seq,time,kind,id,name,node,network,address,peer")
        #expect(csv.stdout.split(separator: "\n").count == 4)
        let text = try ToolRunner.run(["sessions", "--data-dir", healthy])
        #expect(text.stdout.hasPrefix("ID"))
        #expect(text.stdout.contains("END_REASON"))
    }
}
