import EventLog
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

    // Proves a version-1 snapshot (written before leases kept their last renew's sequence) of
    // the same view still verifies: its bytes differ from the fold's, so it is decoded and
    // compared as a projection instead.
    @Test func versionOneSnapshotOfTheSameViewVerifies() throws {
        let copy = try ToolRunner.temporaryDirectory().appendingPathComponent("version1").path
        try FileManager.default.copyItem(atPath: ParallelFoldTests.generated, toPath: copy)
        let store = SnapshotStore(directory: copy + "/snapshots")
        let target = try #require(try store.sequences().first)
        let current = try store.projectionBytes(sequence: target)
        let versionOne = try Self.versionOne(current)
        #expect(versionOne != current)
        #expect(try Projection(snapshotBytes: versionOne).isSnapshot(of: store.load(sequence: target)))
        try Self.writeSnapshot(versionOne, sequence: target, store: store)
        #expect(try store.projectionBytes(sequence: target) == versionOne)
        for threads in [1, 2] {
            let output = try ParallelFoldTests.run(["verify", "--data-dir", copy], threads: threads)
            #expect(output.status == 0, "\(threads) threads: \(output.stdout) \(output.stderr)")
            #expect(output.stderr.contains("healthy"), "\(output.stderr)")
        }
    }

    /// Version-2 projection bytes (docs/FORMAT.md) rewritten as version 1: each live entry's
    /// last renew sequence dropped.
    static func versionOne(_ bytes: [UInt8]) throws -> [UInt8] {
        try #require(bytes.first == 2)
        var output: [UInt8] = [1]
        var offset = 1
        func copyVarint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = try #require(offset < bytes.count ? bytes[offset] : nil)
                output.append(byte)
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        for _ in 0..<3 { _ = try copyVarint() }
        let liveCount = try copyVarint()
        for _ in 0..<liveCount {
            for _ in 0..<5 {
                let length = Int(try copyVarint())
                output += bytes[offset..<(offset + length)]
                offset += length
            }
            for _ in 0..<3 { _ = try copyVarint() }
            let kept = output.count
            _ = try copyVarint()
            output.removeSubrange(kept...)
        }
        output += bytes[offset...]
        return output
    }

    /// Writes `raw` as the snapshot at `sequence` with the store's header (see `SnapshotStore`).
    static func writeSnapshot(_ raw: [UInt8], sequence: UInt64, store: SnapshotStore) throws {
        let lastTime = try store.info(sequence: sequence).lastTimeMicroseconds
        let body = try Zstd.compress(raw)
        var file: [UInt8] = Array("TRSNAP01".utf8)
        for field in [sequence, UInt64(bitPattern: lastTime), UInt64(raw.count), UInt64(body.count)] {
            withUnsafeBytes(of: field.littleEndian) { file += $0 }
        }
        withUnsafeBytes(of: CRC32C.checksum(body).littleEndian) { file += $0 }
        withUnsafeBytes(of: CRC32C.checksum(file).littleEndian) { file += $0 }
        file += body
        try Data(file).write(to: URL(fileURLWithPath: store.path(for: sequence)))
    }

    static func events(_ directory: String, through sequence: UInt64) throws -> [RegistryEvent] {
        var cursor = try RegistryLogReader(dataDirectory: directory).events(fromSequence: 1)
        var events: [RegistryEvent] = []
        while let event = try cursor.next(), event.sequence <= sequence { events.append(event) }
        return events
    }
}
