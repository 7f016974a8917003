import Foundation
import Logging
import PostgresTestSupport
import Registry
import SharedLog
import Testing

/// Every test here starts a throwaway PostgreSQL; skipped, visibly, without its binaries.
let needsPostgres = Testing.ConditionTrait.enabled(
    if: PostgresServer.isAvailable,
    "PostgreSQL binaries missing in \(PostgresServer.binDirectory): apt-get install -y postgresql")

/// `--postgres` reads a cluster's shared log with the same answers as a data directory, and
/// `export` writes that data directory.
@Suite(.serialized)
struct PostgresSourceTests {
    // Proves events, state (by time, by sequence, with and without snapshots), sessions and stats
    // on the database equal the same commands on its export, and that both verify clean.
    @Test(needsPostgres)
    func databaseAndExportAnswerAlike() async throws {
        try await withPostgres { server in
            let url = server.url(database: "registry")
            let filled = try await SharedLogFill.fill(url: url)
            let exported = try ToolRunner.temporaryDirectory().appendingPathComponent("export").path
            let export = try ToolRunner.run(["export", "--postgres", url, "--data-dir", exported, "--format", "json"])
            #expect(export.status == 0, "\(export.stderr)")
            #expect(FileManager.default.fileExists(atPath: exported + "/snapshots"))
            try expectExportRow(export, exported: exported, filled: filled)

            let database = ["--postgres", url]
            let offline = ["--data-dir", exported]
            let events = try ToolRunner.run(["events", "--all", "--format", "json"] + database)
            #expect(events.status == 0, "\(events.stderr)")
            #expect(events.jsonLines.count == filled.records)
            #expect(events.stdout.contains(#""instance":"alpha""#) && events.stdout.contains(#""instance":"beta""#))
            let copiedEvents = try ToolRunner.run(["events", "--all", "--format", "json"] + offline)
            #expect(events.stdout == copiedEvents.stdout)

            let middle = String(filled.snapshotSequence + 2)
            let at = try #require(events.jsonLines.last?["time"] as? String)
            let queries: [[String]] = [
                ["state", "--at", at, "--format", "json"],
                ["state", "--at", at, "--format", "json", "--no-snapshots"],
                ["state", "--seq", middle, "--format", "json"],
                ["state", "--seq", String(filled.snapshotSequence), "--format", "json"],
                ["sessions", "--format", "json"],
                ["events", "--kind", "deregister", "--since", at, "--format", "csv"],
                ["stats", "--format", "json"],
            ]
            for query in queries {
                let online = try ToolRunner.run(query + database)
                let copy = try ToolRunner.run(query + offline)
                #expect(online.status == 0 && copy.status == 0, "\(query): \(online.stderr) \(copy.stderr)")
                if query[0] == "stats" {
                    #expect(online.jsonLines.first?["events"] as? Int == filled.records)
                    #expect(copy.jsonLines.first?["events"] as? Int == filled.records)
                } else {
                    #expect(online.stdout == copy.stdout, "\(query)")
                }
                if query[0] == "state" { #expect(!online.jsonLines.isEmpty, "\(query)") }
            }
            let verifyCopy = try ToolRunner.run(["verify"] + offline)
            #expect(verifyCopy.status == 0, "\(verifyCopy.stdout) \(verifyCopy.stderr)")
            let verifyDatabase = try ToolRunner.run(["verify"] + database)
            #expect(verifyDatabase.status == 0, "\(verifyDatabase.stdout) \(verifyDatabase.stderr)")
        }
    }

    /// Checks export's one json row: the directory, the records and snapshots copied, and the
    /// segments, span and last sequence that stats reads on the copy.
    private func expectExportRow(_ export: ToolRunner.Output, exported: String, filled: SharedLogFill.Filled) throws {
        #expect(export.stdout.split(separator: "\n").count == 1, "\(export.stdout)")
        let row = try #require(export.jsonLines.first, "\(export.stdout)")
        let stats = try #require(
            try ToolRunner.run(["stats", "--format", "json", "--data-dir", exported]).jsonLines.first)
        #expect(row["data_dir"] as? String == exported, "\(row)")
        #expect(row["events"] as? Int == filled.records && row["last_sequence"] as? Int == filled.records, "\(row)")
        #expect((row["commits"] as? Int).map { (1...filled.records).contains($0) } == true, "\(row)")
        let copied = try FileManager.default.contentsOfDirectory(atPath: exported + "/snapshots")
            .filter { $0.hasSuffix(".snap") }
        #expect(!copied.isEmpty && row["snapshots"] as? Int == copied.count, "\(row) \(copied)")
        for key in ["segments", "bytes", "first", "last"] {
            #expect(row[key] as? NSObject == stats[key] as? NSObject, "\(key): \(row) \(stats)")
        }
        #expect((row["segments"] as? Int ?? 0) >= 1 && (row["bytes"] as? Int ?? 0) > 0, "\(row)")
    }

    // Proves export refuses a directory that already holds something, before touching the database.
    @Test
    func exportRefusesNonEmptyDirectory() throws {
        let directory = try ToolRunner.temporaryDirectory()
        try Data("x".utf8).write(to: directory.appendingPathComponent("keep"))
        let output = try ToolRunner.run([
            "export", "--postgres", "postgres://postgres@127.0.0.1:1/registry?sslmode=disable", "--data-dir",
            directory.path,
        ])
        #expect(output.status == 2)
        #expect(output.stderr.contains("is not empty"))
        #expect(output.stdout.isEmpty)
    }

    // Proves a bad URL, an unreachable database and --data-dir with --postgres each stop with one
    // clear line on stderr and exit 2.
    @Test
    func badOrUnreachableDatabaseIsOneLine() throws {
        let port = try freeLoopbackPort()
        let unreachable = "postgres://postgres@127.0.0.1:\(port)/registry?sslmode=disable"
        let cases: [([String], String)] = [
            (["events", "--postgres", "mysql://nobody@127.0.0.1/registry"], "mysql"),
            (["state", "--postgres", unreachable], "127.0.0.1"),
            (["export", "--postgres", unreachable, "--data-dir", try ToolRunner.temporaryDirectory().path + "/x"],
             "127.0.0.1"),
            (["events", "--postgres", unreachable, "--data-dir", "Fixtures/replay/healthy"], "not both"),
        ]
        for (arguments, named) in cases {
            let output = try ToolRunner.run(arguments)
            let message = output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(output.status == 2, "\(arguments): \(output.stderr)")
            #expect(!message.isEmpty && !message.contains("\n"), "\(arguments): \(output.stderr)")
            #expect(message.contains(named), "\(arguments): \(message)")
        }
    }
}

/// Fills a shared log the way two cluster instances do: events encoded with `EventCodec`,
/// appended by `SharedEventStore`, and a snapshot written by the sweeper leader part-way.
enum SharedLogFill {
    struct Filled {
        var records: Int
        var snapshotSequence: UInt64
    }

    static func fill(url: String) async throws -> Filled {
        var logger = Logger(label: "replay-postgres-test")
        logger.logLevel = .warning
        let alpha = try await SharedEventStore.open(configuration(url, "alpha"), logger: logger)
        let beta = try await SharedEventStore.open(configuration(url, "beta"), logger: logger)
        do {
            for round in 0..<3 {
                try await append(alpha, (0..<4).map { event(.register, "c\(round)-\($0)", "t\($0)", "alpha") })
                try await append(beta, (0..<4).map { event(.renew, "c\(round)-\($0)", "t\($0)", "beta") })
                try await append(alpha, [event(.deregister, "c\(round)-0", "t0", "alpha")])
            }
            let snapshotSequence = try await writeSnapshot(leaderOf: [alpha, beta], logger: logger)
            for index in 0..<3 {
                try await append(beta, [event(.register, "late-\(index)", "t9", "beta")])
            }
            try await append(alpha, [event(.deregister, "late-0", "t9", "alpha")])
            let records = try await alpha.durableSequence()
            try await alpha.close()
            try await beta.close()
            return Filled(records: Int(records), snapshotSequence: snapshotSequence)
        } catch {
            try? await alpha.close()
            try? await beta.close()
            throw error
        }
    }

    private static func configuration(_ url: String, _ instance: String) -> SharedLogConfiguration {
        var configuration = SharedLogConfiguration(url: url, instance: instance)
        configuration.leaderCheckSeconds = 0.2
        configuration.pollIntervalSeconds = 0.2
        configuration.mergeIntervalSeconds = 0
        return configuration
    }

    private static func event(_ kind: EventKind, _ id: String, _ name: String, _ instance: String) -> RegistryEvent {
        let isCall = kind == .renew || kind == .deregister
        return RegistryEvent(
            sequence: 0, timeMicroseconds: 0, kind: kind,
            service: Service(
                id: id, name: name, node: "node-\(instance)", network: isCall ? "" : "tcp",
                address: isCall ? "" : "10.0.0.9:80"),
            peer: "10.0.0.1:4000", instance: instance)
    }

    private static func append(_ store: SharedEventStore, _ events: [RegistryEvent]) async throws {
        _ = try await store.append(events.map(EventCodec.encode))
    }

    /// Waits (60 s at most) for one store to lead the sweeper, then stores the fold of the log
    /// so far as a snapshot through it; returns the snapshot's sequence.
    private static func writeSnapshot(leaderOf stores: [SharedEventStore], logger: Logger) async throws -> UInt64 {
        let deadline = ContinuousClock.now + .seconds(60)
        var leader: SharedEventStore?
        while leader == nil {
            for store in stores {
                if await store.leadsSweeper() { leader = store }
            }
            if leader == nil {
                guard ContinuousClock.now < deadline else { throw HarnessError(description: "no sweeper leader in 60 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let store = try #require(leader)
        var projection = Projection()
        try await store.read(fromSequence: 1) { record in projection.apply(try EventCodec.decode(record)) }
        let bytes = try await SharedSnapshotStore(store: store).write(projection, keep: 3)
        #expect(bytes > 0)
        return projection.lastSequence
    }
}
