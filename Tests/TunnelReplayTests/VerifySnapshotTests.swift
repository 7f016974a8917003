import FileStore
import Foundation
import Registry
import Testing

/// `verify` compares each snapshot with the fold by bytes; a mismatch must still be found.
@Suite struct VerifySnapshotTests {
    // Proves a snapshot that is well-formed (both checksums hold) but holds another view than the
    // fold of the log up to it is reported, on one thread and on two, naming its file.
    @Test func snapshotThatDiffersFromTheFoldIsReported() throws {
        let copy = try ToolRunner.temporaryDirectory().appendingPathComponent("differs").path
        try FileManager.default.copyItem(atPath: ParallelFoldTests.generated, toPath: copy)
        let store = SnapshotStore(directory: copy + "/snapshots")
        let target = try #require(try store.sequences().dropFirst().first)
        let events = try Self.events(copy, through: target)
        // The fold without the last renew before the snapshot: one lease's expiry differs.
        let skipped = try #require(events.last { $0.kind == .renew && $0.sequence < target }?.sequence)
        var projection = Projection()
        for event in events where event.sequence != skipped { projection.apply(event) }
        #expect(projection.lastSequence == target)
        try store.write(projection, keep: 100)
        for threads in [1, 2] {
            let output = try ParallelFoldTests.run(["verify", "--format", "json", "--data-dir", copy], threads: threads)
            #expect(output.status == 1, "\(threads) threads: \(output.stdout) \(output.stderr)")
            let problem = try #require(output.jsonLines.first)
            #expect(problem["file"] as? String == "snapshots/" + String(format: "%020llu.snap", target), "\(problem)")
            #expect((problem["problem"] as? String ?? "").contains("differs from the fold"), "\(problem)")
            #expect(output.jsonLines.count == 1, "\(output.stdout)")
        }
    }

    static func events(_ directory: String, through sequence: UInt64) throws -> [RegistryEvent] {
        var cursor = try RegistryLogReader(dataDirectory: directory).events(fromSequence: 1)
        var events: [RegistryEvent] = []
        while let event = try cursor.next(), event.sequence <= sequence { events.append(event) }
        return events
    }
}
