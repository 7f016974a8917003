import EventLog
import Testing

/// Round trips through the writer and the reader, across rotations and reopens.
@Suite struct RoundTripTests {
    /// Appends read back with sequences 1... and the commit timestamps, across many rotations.
    @Test func roundTripAcrossRotations() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock()
        let writer = try await EventLogWriter.open(.small(directory.path), logger: quietLogger, clock: clock.function)
        var positions: [LogPosition] = []
        for index in 0..<500 {
            clock.advance(microseconds: 10)
            positions.append(try await writer.append(payload(index)))
        }
        #expect(positions.map(\.sequence) == Array(1...500))
        #expect(writer.lastSequence == 500)
        try await writer.close()
        let records = try readAll(directory.path)
        #expect(records.map(\.sequence) == Array(1...500))
        #expect(records.map(\.payload) == (0..<500).map(payload))
        #expect(records.map(\.timestampMicroseconds) == positions.map(\.timestampMicroseconds))
        #expect(try EventLogReader(directory: directory.path).segments().count > 3)
    }

    /// Closing and reopening continues the sequence with no gap.
    @Test func reopenContinues() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let clock = ManualClock()
        for round in 0..<3 {
            let writer = try await EventLogWriter.open(
                .small(directory.path), logger: quietLogger, clock: clock.function)
            #expect(writer.lastSequence == UInt64(round * 10))
            for index in 0..<10 {
                let position = try await writer.append(payload(round * 10 + index))
                #expect(position.sequence == UInt64(round * 10 + index + 1))
            }
            try await writer.close()
        }
        let records = try readAll(directory.path)
        #expect(records.map(\.payload) == (0..<30).map(payload))
    }
}
