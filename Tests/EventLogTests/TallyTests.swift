import EventLog
import Foundation
import Testing

/// The record tally of dense segments (docs/FORMAT.md "Tally frame"): version-2 segments whose
/// tally frame counts their records by slot, read from `segments()`, checked wherever sealed
/// segments are checked.
@Suite struct TallyTests {
    /// A test classifier: `payload(i)` ends in the digit `i % 5`; digit 4 answers 99, outside
    /// the slots, so the log clamps it into slot 15.
    static let tally = RecordTally(scheme: 7) { bytes in
        let digit = Int(bytes[bytes.count - 1]) - 48
        return digit == 4 ? 99 : digit
    }

    static func slot(_ index: Int) -> Int { index % 5 == 4 ? 15 : index % 5 }

    static func configuration(_ directory: String, tally: RecordTally?) -> EventLogConfiguration {
        var configuration = EventLogConfiguration.small(directory, segmentBytes: 8192)
        configuration.recordTally = tally
        return configuration
    }

    /// Where the tally frame of a version-2 segment of `bytes` bytes starts: 176 bytes before the seal.
    static func tallyOffset(_ bytes: Int) -> Int { bytes - 56 - 176 }

    static func version(_ path: String) throws -> Int {
        let bytes = try Files.bytes(path)
        return Int(bytes[8]) | Int(bytes[9]) << 8
    }

    // Proves a log written with a tally has version-2 dense segments whose tallies count exactly
    // the records of each, the unsealed newest has none, and the log reads, verifies and reopens.
    @Test func tallyCountsEachDenseSegmentsRecords() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let configuration = Self.configuration(directory.path, tally: Self.tally)
        _ = try await writeLog(configuration, count: 1200)
        let reader = try EventLogReader(directory: directory.path)
        let segments = try reader.segments()
        #expect(segments.filter(\.isSealed).count >= 3)
        for segment in segments {
            let path = directory.path + "/" + segment.fileName
            guard segment.isSealed else {
                #expect(segment.tally == nil)
                #expect(try Self.version(path) == 1)
                continue
            }
            var counts = [UInt64](repeating: 0, count: 16)
            for index in Int(segment.firstSequence - 1)..<Int(segment.lastSequence) { counts[Self.slot(index)] += 1 }
            #expect(segment.tally == SegmentTally(scheme: 7, counts: counts), "\(segment.fileName)")
            #expect(try Self.version(path) == 2)
        }
        #expect(try readAll(directory.path).map(\.payload) == (0..<1200).map(payload))
        #expect(reader.verify().isEmpty)
        #expect(reader.verify(decode: false).isEmpty)
        for checksums in [true, false] {
            var reopen = configuration
            reopen.checksumSealedSegmentsOnOpen = checksums
            let writer = try await EventLogWriter.open(reopen, logger: quietLogger, clock: ManualClock().function)
            try await writer.close()
        }
    }

    // Proves the tally is the only difference: without it the dense segments are version 1 and
    // byte for byte what the same writes give with the tally frame cut out and version 1 put back.
    @Test func withoutTallyDenseSegmentsStayVersionOne() async throws {
        let plain = TemporaryDirectory("plain")
        let tallied = TemporaryDirectory("tallied")
        defer {
            plain.cleanup()
            tallied.cleanup()
        }
        _ = try await writeLog(Self.configuration(plain.path, tally: nil), count: 1200)
        _ = try await writeLog(Self.configuration(tallied.path, tally: Self.tally), count: 1200)
        let plainSegments = try EventLogReader(directory: plain.path).segments()
        let talliedNames = try EventLogReader(directory: tallied.path).segments().map(\.fileName)
        #expect(plainSegments.map(\.fileName) == talliedNames)
        #expect(plainSegments.filter(\.isSealed).count >= 3)
        for segment in plainSegments {
            #expect(segment.tally == nil)
            let old = try Files.bytes(plain.path + "/" + segment.fileName)
            var new = try Files.bytes(tallied.path + "/" + segment.fileName)
            #expect(old[8] == 1 && old[9] == 0)
            if segment.isSealed {
                #expect(new.count == old.count + 176)
                new.removeSubrange(Self.tallyOffset(new.count)..<(new.count - 56))
                new[8] = 1
                let checksum = CRC32C.checksum(Array(new[0..<60]))
                withUnsafeBytes(of: checksum.littleEndian) { new.replaceSubrange(60..<64, with: $0) }
            }
            #expect(new == old, "\(segment.fileName)")
        }
    }

    /// Damage done to the oldest segment's tally frame.
    enum Damage: CaseIterable, Sendable {
        /// One byte of the counts flipped: the payload checksum fails.
        case flippedCount
        /// A count raised by one, checksums rewritten: only the sum tells.
        case sumDisagrees
        /// The frame's last 100 bytes removed: the seal follows a short tally frame.
        case cutShort
        /// The whole frame removed from a version-2 segment.
        case removed

        func apply(_ path: String) throws {
            var bytes = try Files.bytes(path)
            let frame = TallyTests.tallyOffset(bytes.count)
            let payload = frame + 40
            switch self {
            case .flippedCount:
                bytes[payload + 8 + 3 * 8] ^= 0x01
            case .sumDisagrees:
                bytes[payload + 8] &+= 1
                let payloadChecksum = CRC32C.checksum(Array(bytes[payload..<(payload + 136)]))
                withUnsafeBytes(of: payloadChecksum.littleEndian) {
                    bytes.replaceSubrange((frame + 32)..<(frame + 36), with: $0)
                }
                let headerChecksum = CRC32C.checksum(Array(bytes[frame..<(frame + 36)]))
                withUnsafeBytes(of: headerChecksum.littleEndian) {
                    bytes.replaceSubrange((frame + 36)..<(frame + 40), with: $0)
                }
            case .cutShort:
                bytes.removeSubrange((frame + 76)..<(frame + 176))
            case .removed:
                bytes.removeSubrange(frame..<(frame + 176))
            }
            try Files.write(bytes, to: path)
        }
    }

    // Proves a damaged tally frame is reported as damage of its segment by the writer's open
    // (with and without checksumming sealed segments), verify (decoding or not) and segments().
    @Test(arguments: Damage.allCases) func damagedTallyIsReported(_ damage: Damage) async throws {
        let directory = TemporaryDirectory("damage\(damage)")
        defer { directory.cleanup() }
        let configuration = Self.configuration(directory.path, tally: Self.tally)
        _ = try await writeLog(configuration, count: 1200)
        let reader = try EventLogReader(directory: directory.path)
        let oldest = try #require(try reader.segments().first)
        let path = directory.path + "/" + oldest.fileName
        try damage.apply(path)

        func names(_ error: any Error) -> Bool {
            guard case .corruptSegment(let file, _, _, _) = error as? EventLogError else { return false }
            return file == path
        }
        for checksums in [true, false] {
            var reopen = configuration
            reopen.checksumSealedSegmentsOnOpen = checksums
            do {
                let writer = try await EventLogWriter.open(reopen, logger: quietLogger, clock: ManualClock().function)
                try await writer.close()
                Issue.record("open with checksums \(checksums) accepted \(damage)")
            } catch {
                #expect(names(error), "\(error)")
            }
        }
        for decode in [true, false] {
            let problems = reader.verify(decode: decode)
            #expect(problems.count == 1 && problems.first.map(names) == true, "\(problems)")
        }
        #expect(throws: EventLogError.self) { try reader.segments() }
    }

    // Proves a log whose older dense segments are version 2 (written with a tally) and newer ones
    // version 1 (a writer without one) reads whole, and segments() gives a tally only to the
    // version-2 ones. (The other way round, a writer with a tally adds the old ones' tallies:
    // TallyUpgradeTests.)
    @Test func versionOneAndTwoSegmentsReadTogether() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock()
        _ = try await writeLog(Self.configuration(directory.path, tally: Self.tally), count: 600, clock: clock)
        let tallied = try EventLogReader(directory: directory.path).segments().filter(\.isSealed).map(\.fileName)
        _ = try await writeLog(Self.configuration(directory.path, tally: nil), count: 600, clock: clock, start: 600)
        let reader = try EventLogReader(directory: directory.path)
        let segments = try reader.segments()
        #expect(!tallied.isEmpty)
        for segment in segments where segment.isSealed {
            #expect((segment.tally != nil) == tallied.contains(segment.fileName), "\(segment.fileName)")
        }
        #expect(segments.contains { $0.isSealed && $0.tally == nil })
        #expect(try readAll(directory.path).map(\.payload) == (0..<1200).map(payload))
        #expect(reader.verify().isEmpty)
    }
}
