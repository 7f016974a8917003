import EventLog
import Foundation
import Synchronization
import Testing

/// Concurrent appenders, readers beside the writer, and the one-writer lock.
@Suite struct ConcurrencyTests {
    /// 64 concurrent appenders get distinct, gap-free sequences, and each reads back its own payload.
    @Test func sixtyFourAppendersGetGapFreeSequences() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let writer = try await EventLogWriter.open(
            .small(directory.path, segmentBytes: 32_768), logger: quietLogger, clock: ManualClock().function)
        let positions = try await withThrowingTaskGroup(of: [(UInt64, Int)].self) { group in
            for appender in 0..<64 {
                group.addTask {
                    var mine: [(UInt64, Int)] = []
                    for index in 0..<40 {
                        let value = appender * 1000 + index
                        mine.append((try await writer.append(payload(value)).sequence, value))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        try await writer.close()
        #expect(positions.map(\.0).sorted() == Array(1...2560))
        let records = try readAll(directory.path)
        let expected = Dictionary(uniqueKeysWithValues: positions)
        #expect(records.count == 2560)
        for record in records { #expect(record.payload == payload(expected[record.sequence]!)) }
    }

    /// A cursor polled beside a writer sees every record once, in order, across rotations and
    /// dense rewrites, stopping cleanly at the last whole commit in between.
    @Test func readerBesideWriter() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let writer = try await EventLogWriter.open(
            .small(directory.path, segmentBytes: 4096), logger: quietLogger, clock: ManualClock().function)
        let total = 1500
        let appending = Task {
            for start in stride(from: 0, to: total, by: 3) {
                _ = try await writer.append(contentsOf: (start..<(start + 3)).map(payload))
            }
        }
        var cursor = try EventLogReader(directory: directory.path).cursor(fromSequence: 1)
        var records: [LogRecord] = []
        let deadline = ContinuousClock.now + .seconds(120)
        while records.count < total && ContinuousClock.now < deadline {
            if let record = try cursor.next() {
                records.append(record)
            } else {
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        try await appending.value
        // Once more after the deadline: the writer is done, so whatever is left is readable now.
        while records.count < total, let record = try cursor.next() { records.append(record) }
        await writer.waitForSealing()
        try await writer.close()
        #expect(records.map(\.sequence) == (1...UInt64(total)).map { $0 })
        #expect(records.map(\.payload) == (0..<total).map(payload))
        #expect(try cursor.next() == nil)
    }

    /// Readers polling without pause beside a writer that seals a segment at every commit (each
    /// commit fills one) never take a segment being created or sealed for a damaged one: they see
    /// every record once, in order. Each poll races the writer's create, header, frame and seal
    /// writes; a reader that judged what it read before looking for a later segment failed here.
    @Test func pollingReadersBesideSealingAtEveryCommit() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let writer = try await EventLogWriter.open(
            .small(directory.path, segmentBytes: 4096), logger: quietLogger, clock: ManualClock().function)
        let commits = 400
        let appending = Task {
            for commit in 0..<commits {
                _ = try await writer.append(contentsOf: (0..<3).map { bulkyPayload(commit * 3 + $0) })
            }
        }
        let readers = (0..<3).map { _ in
            Task.detached { () throws -> [LogRecord] in
                var cursor = try EventLogReader(directory: directory.path).cursor(fromSequence: 1)
                var records: [LogRecord] = []
                let deadline = ContinuousClock.now + .seconds(300)
                while records.count < commits * 3 && ContinuousClock.now < deadline {
                    if let record = try cursor.next() { records.append(record) } else { await Task.yield() }
                }
                // Once more after the deadline.
                while records.count < commits * 3, let record = try cursor.next() { records.append(record) }
                return records
            }
        }
        try await appending.value
        for reader in readers {
            let records = try await reader.value
            #expect(records.map(\.sequence) == (1...UInt64(commits * 3)).map { $0 })
            #expect(records.map(\.payload) == (0..<(commits * 3)).map(bulkyPayload))
        }
        #expect(try EventLogReader(directory: directory.path).segments().count >= commits)
        try await writer.close()
    }

    /// A second writer on the same directory gets `.locked`; after close it can open.
    @Test func secondWriterIsLockedOut() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let first = try await EventLogWriter.open(
            .small(directory.path), logger: quietLogger, clock: ManualClock().function)
        await #expect(throws: EventLogError.locked(directory: directory.path)) {
            _ = try await EventLogWriter.open(
                .small(directory.path), logger: quietLogger, clock: ManualClock().function)
        }
        #expect(throws: EventLogError.self) {
            _ = try EventLogWriter.repair(directory: directory.path, logger: quietLogger)
        }
        try await first.close()
        let second = try await EventLogWriter.open(
            .small(directory.path), logger: quietLogger, clock: ManualClock().function)
        try await second.close()
    }

    /// An oversized record fails for its appender only; the others in the same moment succeed.
    @Test func oversizedRecordFailsAlone() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let writer = try await EventLogWriter.open(
            .small(directory.path), logger: quietLogger, clock: ManualClock().function)
        let good = Task { try await writer.append(payload(1)) }
        let bad = Task { try await writer.append([UInt8](repeating: 1, count: 1025)) }
        #expect(try await good.value.sequence == 1)
        await #expect(throws: EventLogError.recordTooLarge(bytes: 1025, limit: 1024)) { _ = try await bad.value }
        #expect(try await writer.append(payload(2)).sequence == 2)
        try await writer.close()
        await #expect(throws: EventLogError.closed) { _ = try await writer.append(payload(3)) }
    }
}

/// 1000 bytes that zstd cannot shrink much (an xorshift stream seeded by `index`), so three of
/// them fill a 4 KiB segment.
private func bulkyPayload(_ index: Int) -> [UInt8] {
    var state = UInt64(index) &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<1000).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}
