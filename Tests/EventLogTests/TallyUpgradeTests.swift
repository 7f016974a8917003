import Foundation
import Testing

@testable import EventLog

/// The tally pass over version-1 dense segments (docs/FORMAT.md "Dense rewrite"): a writer with a
/// record tally gives every sealed dense segment written without one its tally frame in the
/// background, copying the blocks byte for byte; damage is never turned into a version-2 file.
@Suite struct TallyUpgradeTests {
    /// Writes 1200 records without a tally, every segment sealed and rewritten densely (the
    /// newest sealed by a rotation), so each sealed segment is version-1 dense.
    static func writeVersionOneLog(_ directory: String, tally: RecordTally? = nil) async throws {
        let clock = ManualClock()
        let configuration = TallyTests.configuration(directory, tally: tally)
        _ = try await writeLog(configuration, count: 1200, clock: clock)
        let writer = try await EventLogWriter.open(configuration, logger: quietLogger, clock: clock.function)
        try await writer.rotate()
        await writer.waitForSealing()
        try await writer.close()
    }

    /// Opens a writer with `configuration`, waits for its background work, closes it.
    static func reopen(_ configuration: EventLogConfiguration, logs: CapturedLogs = CapturedLogs()) async throws {
        let writer = try await EventLogWriter.open(configuration, logger: logs.logger, clock: ManualClock().function)
        await writer.waitForSealing()
        try await writer.close()
    }

    /// Every file of the directory: name, bytes, inode and modification time.
    static func files(_ directory: String) throws -> [String: ([UInt8], Int, Date)] {
        var files: [String: ([UInt8], Int, Date)] = [:]
        for name in try Files.names(directory) where name.hasSuffix(".seg") {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            files[name] = (
                try Files.bytes(directory + "/" + name), (attributes[.systemFileNumber] as? Int) ?? -1,
                (attributes[.modificationDate] as? Date) ?? .distantPast
            )
        }
        return files
    }

    static func counts(_ segment: SegmentInfo) -> SegmentTally {
        var counts = [UInt64](repeating: 0, count: 16)
        for index in Int(segment.firstSequence - 1)..<Int(segment.lastSequence) { counts[TallyTests.slot(index)] += 1 }
        return SegmentTally(scheme: 7, counts: counts)
    }

    // Proves reopening a log of version-1 dense segments with a tally makes each version 2 with a
    // tally equal to its records' counts, its blocks and seal byte for byte the old ones (the file
    // equals one written with the tally from the start), every record reads back identical,
    // verify is clean, and a second reopen leaves every file as it is (no second pass).
    @Test func reopenWithTallyAddsTalliesToVersionOneSegments() async throws {
        let directory = TemporaryDirectory("upgraded")
        let reference = TemporaryDirectory("reference")
        defer {
            directory.cleanup()
            reference.cleanup()
        }
        try await Self.writeVersionOneLog(directory.path)
        try await Self.writeVersionOneLog(reference.path, tally: TallyTests.tally)
        let before = try Self.files(directory.path)
        let recordsBefore = try readAll(directory.path)
        #expect(recordsBefore.count == 1200)
        let sealedBefore = try EventLogReader(directory: directory.path).segments()
        #expect(sealedBefore.count >= 4 && sealedBefore.allSatisfy { $0.isSealed && $0.tally == nil })
        for name in before.keys { #expect(try TallyTests.version(directory.path + "/" + name) == 1) }

        try await Self.reopen(TallyTests.configuration(directory.path, tally: TallyTests.tally))

        let reader = try EventLogReader(directory: directory.path)
        let segments = try reader.segments()
        #expect(segments.map(\.fileName) == sealedBefore.map(\.fileName))
        for segment in segments {
            let path = directory.path + "/" + segment.fileName
            #expect(segment.isSealed)
            #expect(try TallyTests.version(path) == 2, "\(segment.fileName)")
            #expect(segment.tally == Self.counts(segment), "\(segment.fileName)")
            let old = try #require(before[segment.fileName]).0
            let new = try Files.bytes(path)
            #expect(new.count == old.count + 176)
            // Compared as Bools: a failure prints the file's name, not its bytes.
            let blocks = new.count > 296 ? Array(new[64..<TallyTests.tallyOffset(new.count)]) : []
            let sameBlocks = blocks == Array(old[64..<(old.count - 56)])
            #expect(sameBlocks, "\(segment.fileName): blocks differ from the version-1 file's")
            #expect(new.suffix(56) == old.suffix(56), "\(segment.fileName): seal")
            let sameAsReference = new == (try Files.bytes(reference.path + "/" + segment.fileName))
            #expect(sameAsReference, "\(segment.fileName) differs from the same log written with the tally")
        }
        #expect(try readAll(directory.path) == recordsBefore)
        #expect(reader.verify().isEmpty)
        #expect(reader.verify(decode: false).isEmpty)
        #expect(try Files.names(directory.path).allSatisfy { !$0.hasSuffix(".tmp") })

        let upgraded = try Self.files(directory.path)
        try await Self.reopen(TallyTests.configuration(directory.path, tally: TallyTests.tally))
        let again = try Self.files(directory.path)
        #expect(again.keys.sorted() == upgraded.keys.sorted())
        for (name, file) in upgraded {
            let now = try #require(again[name])
            #expect(now.0 == file.0 && now.1 == file.1 && now.2 == file.2, "\(name) changed on the second reopen")
        }
    }

    // Proves reopening a log of version-1 dense segments without a tally, or with one but with
    // sealed-segment rewrites turned off, leaves every file byte for byte and inode as it was.
    @Test(arguments: [false, true])
    func reopenWithoutPassLeavesVersionOneFiles(_ tallyWithoutRewrites: Bool) async throws {
        let directory = TemporaryDirectory("plain\(tallyWithoutRewrites)")
        defer { directory.cleanup() }
        try await Self.writeVersionOneLog(directory.path)
        let before = try Self.files(directory.path)
        var configuration = TallyTests.configuration(
            directory.path, tally: tallyWithoutRewrites ? TallyTests.tally : nil)
        configuration.rewriteSealedSegments = !tallyWithoutRewrites
        try await Self.reopen(configuration)
        let after = try Self.files(directory.path)
        #expect(after.keys.sorted() == before.keys.sorted())
        for (name, file) in before {
            let now = try #require(after[name])
            #expect(now.0 == file.0 && now.1 == file.1, "\(name) changed")
        }
        #expect(try EventLogReader(directory: directory.path).segments().allSatisfy { $0.tally == nil })
    }

    // Proves a version-1 segment with a damaged block, opened without checksumming sealed
    // segments, is left byte for byte as it was with a warning (never a version-2 file), while the
    // undamaged ones still get their tallies; with checksums the open refuses the log.
    @Test func damagedVersionOneSegmentIsLeftAlone() async throws {
        let directory = TemporaryDirectory("damaged")
        defer { directory.cleanup() }
        try await Self.writeVersionOneLog(directory.path)
        let segments = try EventLogReader(directory: directory.path).segments()
        let damaged = directory.path + "/" + segments[1].fileName
        // Inside the first block's payload (header 64, frame header 40).
        try Files.flipByte(damaged, at: 64 + 40 + 20)
        let before = try Files.bytes(damaged)
        let inode = try FileManager.default.attributesOfItem(atPath: damaged)[.systemFileNumber] as? Int

        var configuration = TallyTests.configuration(directory.path, tally: TallyTests.tally)
        await #expect {
            try await Self.reopen(configuration)
        } throws: { error in
            guard case .corruptSegment(let file, _, _, _) = error as? EventLogError else { return false }
            return file == damaged
        }
        configuration.checksumSealedSegmentsOnOpen = false
        let logs = CapturedLogs()
        try await Self.reopen(configuration, logs: logs)

        let unchanged = try Files.bytes(damaged) == before
        #expect(unchanged, "the damaged segment was rewritten")
        #expect(try FileManager.default.attributesOfItem(atPath: damaged)[.systemFileNumber] as? Int == inode)
        #expect(try TallyTests.version(damaged) == 1)
        #expect(logs.all.contains { $0.hasPrefix("warning: could not add a tally frame") }, "\(logs.all)")
        #expect(try Files.names(directory.path).allSatisfy { !$0.hasSuffix(".tmp") })
        for segment in segments where segment.fileName != segments[1].fileName {
            #expect(try TallyTests.version(directory.path + "/" + segment.fileName) == 2, "\(segment.fileName)")
        }
    }

    // Proves the pass skips what it must not touch: no tally configured, a file gone (retention),
    // a stream-form segment, a segment already version 2.
    @Test func passSkipsWhatItMustNotTouch() async throws {
        let directory = TemporaryDirectory("skips")
        defer { directory.cleanup() }
        var configuration = TallyTests.configuration(directory.path, tally: TallyTests.tally)
        configuration.rewriteSealedSegments = false
        _ = try await writeLog(configuration, count: 600)
        let stream = try #require(try EventLogReader(directory: directory.path).segments().first).fileName
        let streamBytes = try Files.bytes(directory.path + "/" + stream)
        let rewriter = DenseRewriter(directory: directory.path, level: 9, blockBytes: 4096, tally: TallyTests.tally)
        #expect(try rewriter.addTally(fileName: stream) == nil)
        #expect(try rewriter.addTally(fileName: "00000000000099999999.seg") == nil)
        let sameStreamBytes = try Files.bytes(directory.path + "/" + stream) == streamBytes
        #expect(sameStreamBytes)

        let untallied = DenseRewriter(directory: directory.path, level: 9, blockBytes: 4096)
        #expect(try untallied.rewrite(fileName: stream) != nil)
        let versionOne = try Files.bytes(directory.path + "/" + stream)
        #expect(try untallied.addTally(fileName: stream) == nil)
        let sameVersionOne = try Files.bytes(directory.path + "/" + stream) == versionOne
        #expect(sameVersionOne)

        let outcome = try #require(try rewriter.addTally(fileName: stream))
        #expect(outcome.bytesAfter == versionOne.count + 176)
        let versionTwo = try Files.bytes(directory.path + "/" + stream)
        #expect(try rewriter.addTally(fileName: stream) == nil)
        let sameVersionTwo = try Files.bytes(directory.path + "/" + stream) == versionTwo
        #expect(sameVersionTwo)
    }
}
