import EventLog
import Foundation
import Testing

/// The records recovery decodes at open, kept for the first read (`RecoveredTail`).
@Suite struct RecoveredTailTests {
    /// Every record `tail` holds from `sequence` on, as (sequence, timestamp, payload).
    static func records(_ tail: RecoveredTail, from sequence: UInt64) -> [LogRecord] {
        var records: [LogRecord] = []
        tail.forEach(fromSequence: sequence) { sequence, time, payload in
            records.append(LogRecord(sequence: sequence, timestampMicroseconds: time, payload: Array(payload)))
        }
        return records
    }

    // Proves the tail kept from a sequence in the newest segment holds exactly the records a
    // cursor reads from there to the log's end, with their timestamps, and is taken once.
    @Test func tailEqualsTheCursorFromItsStart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let configuration = EventLogConfiguration.small(directory.path, segmentBytes: 1 << 20)
        _ = try await writeLog(configuration, count: 300)
        let writer = try await EventLogWriter.open(
            configuration, logger: quietLogger, retainingRecordsFrom: 120, clock: ManualClock().function)
        let tail = try #require(writer.takeRecoveredTail())
        #expect(tail.firstSequence <= 120)
        #expect(tail.lastSequence == 300)
        let expected = try readAll(directory.path, from: 120)
        #expect(Self.records(tail, from: 120) == expected)
        #expect(Self.records(tail, from: 250) == Array(expected.dropFirst(130)))
        #expect(writer.takeRecoveredTail() == nil)
        try await writer.close()
    }

    // Proves the tail starts in the newest segment (older, sealed segments are not decoded at
    // open) and that without a sequence to retain from nothing is kept.
    @Test func tailLiesInTheNewestSegmentOnly() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let configuration = EventLogConfiguration.small(directory.path)
        _ = try await writeLog(configuration, count: 400)
        let segments = try Files.names(directory.path).filter { $0.hasSuffix(".seg") }
        #expect(segments.count > 2)
        let newest = try #require(segments.last)
        let newestFirst = try #require(UInt64(newest.prefix(20)))
        let writer = try await EventLogWriter.open(
            configuration, logger: quietLogger, retainingRecordsFrom: 1, clock: ManualClock().function)
        let tail = try #require(writer.takeRecoveredTail())
        #expect(tail.firstSequence == newestFirst)
        let fromNewest = try readAll(directory.path, from: newestFirst)
        #expect(Self.records(tail, from: 1) == fromNewest)
        try await writer.close()
        let plain = try await EventLogWriter.open(configuration, logger: quietLogger, clock: ManualClock().function)
        #expect(plain.takeRecoveredTail() == nil)
        try await plain.close()
    }

    // Proves a torn tail cut at open is not in the tail: it holds the whole commits before it.
    @Test func tornCommitIsNotKept() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let configuration = EventLogConfiguration.small(directory.path, segmentBytes: 1 << 20)
        _ = try await writeLog(configuration, count: 50)
        let names = try Files.names(directory.path)
        let segment = directory.path + "/" + (try #require(names.first { $0.hasSuffix(".seg") }))
        let size = try Files.bytes(segment).count
        try Files.truncate(segment, to: size - 3)
        let writer = try await EventLogWriter.open(
            configuration, logger: quietLogger, retainingRecordsFrom: 10, clock: ManualClock().function)
        let tail = try #require(writer.takeRecoveredTail())
        #expect(tail.lastSequence == 49)
        let whole = try readAll(directory.path, from: 10)
        #expect(Self.records(tail, from: 10) == whole)
        try await writer.close()
    }
}
