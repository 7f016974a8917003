import EventLog
import Testing

/// Removing old sealed segments (`EventLogWriter.removeSegments`) and reading what remains.
@Suite struct RetentionTests {
    /// Writes `count` records, one commit each, 1 s apart on a manual clock, in small segments.
    private func openFilled(_ directory: String, count: Int, clock: ManualClock) async throws -> EventLogWriter {
        let writer = try await EventLogWriter.open(
            .small(directory, segmentBytes: 4096), logger: quietLogger, clock: clock.function)
        for index in 0..<count {
            clock.advance(microseconds: 1_000_000)
            _ = try await writer.append(payload(index))
        }
        await writer.waitForSealing()
        return writer
    }

    /// Only sealed segments that end at or before the sequence bound and before the time bound go,
    /// oldest first; the bytes on disk drop by exactly the removed segments' bytes.
    @Test func removesOnlySegmentsBelowBothBounds() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock()
        let writer = try await openFilled(directory.path, count: 2000, clock: clock)
        let before = try EventLogReader(directory: directory.path).segments()
        #expect(before.count >= 5)
        let bytesBefore = before.reduce(0) { $0 + $1.bytes }

        // The sequence bound falls inside the third segment: only the first two may go.
        let sequenceBound = before[2].firstSequence + 1
        var outcome = try await writer.removeSegments(throughSequence: sequenceBound, endingBefore: .max)
        #expect(outcome.removedSegments.map(\.fileName) == before.prefix(2).map(\.fileName))

        // The time bound equals the fourth segment's last timestamp: the third goes, not the fourth.
        outcome = try await writer.removeSegments(
            throughSequence: .max, endingBefore: before[3].lastTimestampMicroseconds)
        #expect(outcome.removedSegments.map(\.fileName) == [before[2].fileName])

        let after = try EventLogReader(directory: directory.path).segments()
        #expect(after.map(\.fileName) == before.dropFirst(3).map(\.fileName))
        let bytesAfter = after.reduce(0) { $0 + $1.bytes }
        #expect(bytesBefore - bytesAfter == before.prefix(3).reduce(0) { $0 + $1.bytes })
        try await writer.close()
    }

    /// The newest segment is never removed, whatever the bounds, so the writer continues its
    /// sequence after a reopen, and every reader works from the later first segment.
    @Test func keepsNewestAndReadsFromLaterStart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock()
        var writer = try await openFilled(directory.path, count: 1500, clock: clock)
        try await writer.rotate()
        let outcome = try await writer.removeSegments(throughSequence: .max, endingBefore: .max)
        let left = try EventLogReader(directory: directory.path).segments()
        #expect(left.count == 1)
        #expect(!outcome.removedSegments.isEmpty)
        let firstLeft = left[0].firstSequence
        #expect(firstLeft > 1)
        try await writer.close()

        writer = try await EventLogWriter.open(
            .small(directory.path, segmentBytes: 4096), logger: quietLogger, clock: clock.function)
        let next = try await writer.append(payload(1500))
        #expect(next.sequence == 1501)
        try await writer.close()

        let reader = try EventLogReader(directory: directory.path)
        #expect(try reader.firstSequence() == firstLeft)
        #expect(reader.verify().isEmpty)
        let fromOne = try readAll(directory.path, from: 1)
        #expect(fromOne.first?.sequence == firstLeft)
        #expect(fromOne.map(\.sequence) == Array(firstLeft...1501))
        #expect(try readAll(directory.path, from: firstLeft + 3).first?.sequence == firstLeft + 3)
        var byTime = try reader.cursor(fromTimestamp: 0)
        #expect(try byTime.next()?.sequence == firstLeft)
    }

    /// Nothing qualifies: nothing is removed (a segment still being written is never touched).
    @Test func removesNothingWhenNoSegmentQualifies() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock()
        let writer = try await openFilled(directory.path, count: 800, clock: clock)
        let before = try EventLogReader(directory: directory.path).segments()
        let outcome = try await writer.removeSegments(
            throughSequence: .max, endingBefore: before[0].lastTimestampMicroseconds)
        #expect(outcome.removedSegments.isEmpty && outcome.removedBytes == 0)
        #expect(try EventLogReader(directory: directory.path).segments() == before)
        try await writer.close()
    }

    /// A cursor made before retention removed the segment it starts in fails on its first read
    /// naming the sequence it needed and where the log now begins; it never skips records silently.
    @Test func cursorMadeBeforeRemovalFailsForRecordsItNeeded() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock()
        let writer = try await openFilled(directory.path, count: 1000, clock: clock)
        let before = try EventLogReader(directory: directory.path).segments()
        try #require(before.count >= 3)
        let needed = before[1].firstSequence + 2
        var cursor = try EventLogReader(directory: directory.path).cursor(fromSequence: needed)
        _ = try await writer.removeSegments(throughSequence: before[1].lastSequence, endingBefore: .max)
        let removed = EventLogError.removedByRetention(neededSequence: needed, firstSequence: before[2].firstSequence)
        #expect(throws: removed) { _ = try cursor.next() }
        try await writer.close()
    }

    /// A cursor that finished one segment and finds the next removed fails naming the sequence it
    /// was about to read; one that had opened its segment reads it to the end from the open file.
    @Test func cursorBetweenSegmentsFailsWhenTheNextIsRemoved() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock()
        let writer = try await openFilled(directory.path, count: 1000, clock: clock)
        let before = try EventLogReader(directory: directory.path).segments()
        try #require(before.count >= 3)
        var cursor = try EventLogReader(directory: directory.path).cursor(fromSequence: 1)
        #expect(try cursor.next()?.sequence == 1)
        _ = try await writer.removeSegments(throughSequence: before[1].lastSequence, endingBefore: .max)
        var sequences: [UInt64] = []
        let failure = #expect(throws: EventLogError.self) {
            while let record = try cursor.next() { sequences.append(record.sequence) }
        }
        #expect(sequences == Array(2...before[0].lastSequence))
        let removed = EventLogError.removedByRetention(
            neededSequence: before[1].firstSequence, firstSequence: before[2].firstSequence)
        #expect(failure == removed)
        try await writer.close()
    }

    /// Segments retention removes after a cursor is made but which hold only records before its
    /// start are skipped: the cursor reads on from its start.
    @Test func cursorSkipsRemovedSegmentsBeforeItsStart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock()
        let writer = try await openFilled(directory.path, count: 300, clock: clock)
        try await writer.rotate()
        let sealedLast = try #require(try EventLogReader(directory: directory.path).segments().last).lastSequence
        // Starts past the end of the log: the cursor waits in the newest (now sealed) segment.
        let start = sealedLast + 5
        var cursor = try EventLogReader(directory: directory.path).cursor(fromSequence: start)
        for index in 300..<320 {
            clock.advance(microseconds: 1_000_000)
            _ = try await writer.append(payload(index))
        }
        let outcome = try await writer.removeSegments(throughSequence: sealedLast, endingBefore: .max)
        #expect(outcome.removedSegments.last?.lastSequence == sealedLast)
        var sequences: [UInt64] = []
        while let record = try cursor.next() { sequences.append(record.sequence) }
        #expect(sequences == Array(start...320))
        try await writer.close()
    }

}
