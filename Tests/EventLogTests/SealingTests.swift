import EventLog
import Testing

@testable import EventLog

/// Sealing, the dense rewrite, rotation by age, and reads by time.
@Suite struct SealingTests {
    /// The dense rewrite keeps every record, sequence and timestamp identical, and shrinks the log.
    @Test func denseRewriteKeepsContentIdentical() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        var configuration = EventLogConfiguration.small(directory.path, segmentBytes: 8192)
        configuration.rewriteSealedSegments = false
        _ = try await writeLog(configuration, count: 1200)
        let before = try readAll(directory.path)
        let infosBefore = try EventLogReader(directory: directory.path).segments()
        #expect(infosBefore.filter(\.isSealed).count >= 2)

        configuration.rewriteSealedSegments = true
        let writer = try await EventLogWriter.open(configuration, logger: quietLogger, clock: ManualClock().function)
        await writer.waitForSealing()
        try await writer.close()
        let after = try readAll(directory.path)
        #expect(after == before)
        let infosAfter = try EventLogReader(directory: directory.path).segments()
        for (old, new) in zip(infosBefore, infosAfter) {
            #expect(old.firstSequence == new.firstSequence && old.lastSequence == new.lastSequence)
            #expect(old.firstTimestampMicroseconds == new.firstTimestampMicroseconds)
            #expect(old.lastTimestampMicroseconds == new.lastTimestampMicroseconds)
            if old.isSealed {
                #expect(new.bytes < old.bytes)
                let header = try SegmentFileReader(path: directory.path + "/" + new.fileName).readHeader().get()
                #expect(header.form == .dense)
            }
        }
        #expect(try EventLogReader(directory: directory.path).verify().isEmpty)
        #expect(try Files.names(directory.path).allSatisfy { !$0.hasSuffix(".tmp") })
    }

    /// A segment older than the age limit is sealed at the next commit.
    @Test func rotatesByAge() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        var configuration = EventLogConfiguration.small(directory.path, segmentBytes: 1 << 20)
        configuration.segmentAgeSecondsMax = 60
        let clock = ManualClock()
        let writer = try await EventLogWriter.open(configuration, logger: quietLogger, clock: clock.function)
        _ = try await writer.append(payload(1))
        clock.advance(microseconds: 59_000_000)
        _ = try await writer.append(payload(2))
        clock.advance(microseconds: 2_000_000)
        _ = try await writer.append(payload(3))
        try await writer.close()
        let segments = try EventLogReader(directory: directory.path).segments()
        #expect(segments.map(\.firstSequence) == [1, 3])
        #expect(segments.map(\.isSealed) == [true, false])
    }

    /// Commit timestamps never go back, even when the clock does.
    @Test func timestampsNeverDecrease() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock(1_000_000)
        let writer = try await EventLogWriter.open(.small(directory.path), logger: quietLogger, clock: clock.function)
        let first = try await writer.append(payload(1))
        clock.set(500)
        let second = try await writer.append(payload(2))
        try await writer.close()
        #expect(second.timestampMicroseconds == first.timestampMicroseconds)
        let reopened = try await EventLogWriter.open(.small(directory.path), logger: quietLogger, clock: clock.function)
        #expect(try await reopened.append(payload(3)).timestampMicroseconds == first.timestampMicroseconds)
        try await reopened.close()
    }

    /// Cursors start at a sequence or a time in the middle of the log, in sealed and active segments.
    @Test func cursorsFromSequenceAndTime() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let positions = try await writeLog(.small(directory.path, segmentBytes: 4096), count: 400)
        let reader = try EventLogReader(directory: directory.path)
        for start in [1, 2, 137, 250, 399, 400] {
            var cursor = try reader.cursor(fromSequence: UInt64(start))
            #expect(try cursor.next()?.payload == payload(start - 1))
            var timeCursor = try reader.cursor(fromTimestamp: positions[start - 1].timestampMicroseconds)
            #expect(try timeCursor.next()?.sequence == UInt64(start))
        }
        var past = try reader.cursor(fromSequence: 401)
        #expect(try past.next() == nil)
        var late = try reader.cursor(fromTimestamp: Int64.max)
        #expect(try late.next() == nil)
    }

    /// `interval` and `never` policies keep every record readable after close.
    @Test(arguments: [FsyncPolicy.interval(milliseconds: 5), .never])
    func otherFsyncPolicies(policy: FsyncPolicy) async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        var configuration = EventLogConfiguration.small(directory.path)
        configuration.fsync = policy
        _ = try await writeLog(configuration, count: 100)
        #expect(try readAll(directory.path).map(\.payload) == (0..<100).map(payload))
    }

    /// Settings out of range are refused with the setting's name.
    @Test func invalidConfigurationIsRefused() async throws {
        var configuration = EventLogConfiguration(directory: "/tmp/unused")
        configuration.segmentBytesMax = 10
        #expect(throws: EventLogError.self) { try configuration.validate() }
    }
}
