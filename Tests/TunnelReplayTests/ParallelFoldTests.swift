import Foundation
import Registry
import Testing

@testable import tunnel_replay

/// The scans that fold on several threads print exactly what one thread prints.
@Suite struct ParallelFoldTests {
    /// A generated log with reconnects, partitions and node crashes, small enough for a debug build.
    static let generated: String = {
        let directory = (try? ToolRunner.temporaryDirectory())?.appendingPathComponent("bench").path ?? "/nonexistent"
        _ = try? ToolRunner.run([
            "generate", "--scenario", "bench", "--events", "60000", "--connectors", "400", "--snapshot-every",
            "20000", "--segment-bytes", "65536", "--out", directory,
        ])
        return directory
    }()

    static func run(_ arguments: [String], threads: Int) throws -> ToolRunner.Output {
        try ToolRunner.run(arguments, environment: ["TUNNEL_REPLAY_THREADS": "\(threads)"])
    }

    // Proves sessions folded in 2 and 3 tunnel partitions print the same rows as one thread, over
    // the whole log, a seeking window, a tunnel filter and the fixture history.
    @Test(arguments: [
        ["sessions"], ["sessions", "--since", "2026-11-26T03:05:00Z", "--until", "2026-11-26T03:10:00Z"],
        ["sessions", "--since", "2026-11-26T03:12:30Z"], ["sessions", "--name", "tunnel-7"],
        ["sessions", "--until", "2026-11-26T03:04:00Z"],
    ])
    func sessionsMatchOneThread(arguments: [String]) throws {
        let full = arguments + ["--format", "json", "--data-dir", Self.generated]
        let one = try Self.run(full, threads: 1)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.jsonLines.count >= 3, "\(one.stdout.prefix(300)) \(one.stderr)")
        for threads in [2, 3] {
            let many = try Self.run(full, threads: threads)
            #expect(many.status == 0, "\(many.stderr)")
            #expect(many.stdout == one.stdout, "\(threads) threads differ for \(arguments)")
        }
        let fixture = arguments.prefix(1) + ["--format", "csv", "--data-dir", ToolRunner.fixture("healthy")]
        #expect(try Self.run(Array(fixture), threads: 2).stdout == Self.run(Array(fixture), threads: 1).stdout)
    }

    // Proves verify passes a healthy generated log with its snapshots, whatever the thread count.
    @Test func verifyHealthyGenerated() throws {
        for threads in [1, 2] {
            let output = try Self.run(["verify", "--data-dir", Self.generated], threads: threads)
            #expect(output.status == 0, "\(output.stdout) \(output.stderr)")
            #expect(output.stderr.contains("60000 records, 3 snapshots: healthy"), "\(output.stderr)")
        }
    }

    // Proves every tunnel name belongs to exactly one partition, the same from its bytes and its string.
    @Test func partitionsDealEachNameOnce() {
        for name in ["", "web", "tunnel-1", "tunnel-14999", "ümlaut"] {
            let owners = (0..<3).filter { SessionPartition(index: $0, count: 3).owns(name: name) }
            #expect(owners.count == 1, "\(name): \(owners)")
            let fromBytes = Array(name.utf8).withUnsafeBytes { SessionPartition(index: owners[0], count: 3).owns(name: $0) }
            #expect(fromBytes)
        }
        let shares = (0..<1000).filter { SessionPartition(index: 0, count: 2).owns(name: "tunnel-\($0)") }.count
        #expect((400...600).contains(shares), "\(shares) of 1000 names in partition 0")
    }

    // Proves the name peek reads a service event's tunnel name as the full view does, and declines
    // control records, long fields and truncated payloads (the full view then reports them).
    @Test func peekedNameIsTheViewsName() throws {
        func event(_ kind: EventKind, id: String, name: String) -> [UInt8] {
            EventCodec.encode(
                RegistryEvent(
                    sequence: 1, timeMicroseconds: 0, kind: kind,
                    service: Service(id: id, name: name, node: "n", network: "tcp", address: "a:1"), peer: "p"))
        }
        for kind in [EventKind.register, .renew, .deregister, .expire] {
            let bytes = event(kind, id: "c1-ab", name: "tunnel-42")
            let peeked = bytes.withUnsafeBytes { SessionQuery.peekName($0).map { Array($0) } }
            #expect(peeked == Array("tunnel-42".utf8))
        }
        let long = event(.renew, id: String(repeating: "x", count: 200), name: "web")
        #expect(long.withUnsafeBytes { SessionQuery.peekName($0) } == nil)
        #expect(event(.start, id: "", name: "").withUnsafeBytes { SessionQuery.peekName($0) } == nil)
        let cut = Array(event(.renew, id: "c1", name: "tunnel-42").prefix(7))
        #expect(cut.withUnsafeBytes { SessionQuery.peekName($0) } == nil)
    }
}

/// The startup of a `sessions` window: its snapshot headers and the huge-page restart.
@Suite struct SessionWindowStartTests {
    // Proves the bisected snapshot list for a window is the full list's stretch from the last
    // snapshot at or before `since` through the first after `until` (to the end without `until`),
    // for windows before, across, between and after the snapshots.
    @Test func bisectedSnapshotsAreTheWindowsStretch() throws {
        let scan = try EventScan(source: .directory(DataDirectory(path: ParallelFoldTests.generated)))
        let all = scan.snapshotPoints()
        #expect(all.count == 3)
        let times = all.map(\.timeMicroseconds)
        let probes = [times[0] - 1, times[0], times[0] + 1, times[1], times[2] - 1, times[2], times[2] + 1]
        for since in probes {
            for until in [nil, since, since + 1, times[1], times[2] + 10] as [Int64?] {
                let first = all.lastIndex { $0.timeMicroseconds <= since } ?? 0
                var expected = Array(all[first...])
                if let until, let after = expected.firstIndex(where: { $0.timeMicroseconds > until }) {
                    expected = Array(expected[...after])
                }
                #expect(scan.snapshotPoints(since: since, until: until) == expected, "since \(since) until \(String(describing: until))")
            }
        }
    }

    // Proves the restart with the huge-page tunable prints the same sessions as a run without it,
    // and that the sysfs mode is read from its brackets.
    @Test func hugePageRestartPrintsTheSame() throws {
        let arguments = [
            "sessions", "--since", "2026-11-26T03:05:00Z", "--until", "2026-11-26T03:10:00Z", "--format", "csv",
            "--data-dir", ParallelFoldTests.generated,
        ]
        let restarted = try ToolRunner.run(arguments)
        let plain = try ToolRunner.run(arguments, environment: [AllocatorTuning.hugePagesVariable: "0"])
        #expect(restarted.status == 0 && plain.status == 0, "\(restarted.stderr) \(plain.stderr)")
        #expect(restarted.stdout == plain.stdout)
        #expect(AllocatorTuning.selectedMode("always [madvise] never\n") == "madvise")
        #expect(AllocatorTuning.selectedMode("[always] madvise never") == "always")
        #expect(AllocatorTuning.selectedMode("garbage") == nil)
    }
}
