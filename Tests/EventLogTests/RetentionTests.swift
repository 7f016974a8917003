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
}
