import Registry
import Testing

@testable import tunnel_replay

/// `SessionRows` prints what `RowWriter` prints for the sessions' cells, byte for byte.
@Suite struct SessionRowsTests {
    /// `count` sessions with every kind of value a row holds: escapes, csv quoting, non-ASCII
    /// text, live sessions without an end, fractional gaps, long values that widen a text column.
    static func sessions(count: Int) -> [Session] {
        let names = ["tunnel-1", "a,b", "say \"hi\"", "tünnel-ä", "line\nbreak", "tab\there", "x"]
        return (0..<count).map { index in
            Session(
                id: "c\(index)-\(String(repeating: "f", count: index % 23))",
                name: names[index % names.count],
                node: index % 5 == 0 ? "" : "node-\(index % 7)",
                network: index % 3 == 0 ? "udp" : "tcp",
                address: "10.0.\(index % 256).\(index % 17):\(index % 65_536)",
                startMicroseconds: 1_790_000_000_000_000 + Int64(index) * 1_500_123,
                endMicroseconds: index % 4 == 0 ? nil : 1_790_000_000_000_000 + Int64(index) * 2_000_017,
                end: index % 4 == 0 ? .live : (index % 3 == 0 ? .expire : .deregister),
                renews: index * 37 % 1_001,
                maxGapMicroseconds: Int64(index % 9) * 1_250_000 + Int64(index % 2) * 7,
                startSequence: UInt64(index),
                lastActivityMicroseconds: 0)
        }
    }

    private static func writer(_ sessions: [Session], _ format: OutputFormat) -> String {
        let sink = OutputSink.capturing()
        let writer = RowWriter(format: format, columns: SessionsCommand.columns, sink: sink)
        for session in sessions { writer.write(SessionsCommand.cells(session)) }
        writer.finish()
        return sink.captured
    }

    private static func rows(_ sessions: [Session], _ format: OutputFormat, threads: Int) throws -> String {
        let sink = OutputSink.capturing()
        try SessionRows.write(sessions, format: format, to: sink, threads: threads)
        return sink.captured
    }

    // Proves every format matches the row writer for empty, short (aligned on every row) and long
    // (aligned on the first rows only, a later row wider) tables.
    @Test func everyFormatMatchesTheRowWriter() throws {
        for count in [0, 1, 7, RowWriter.alignmentRowsMax + 40] {
            var sessions = Self.sessions(count: count)
            if count > RowWriter.alignmentRowsMax {
                sessions[count - 1].id = String(repeating: "w", count: 80)
            }
            for format in OutputFormat.allCases {
                #expect(try Self.rows(sessions, format, threads: 1) == Self.writer(sessions, format))
            }
        }
    }

    // Proves rows rendered in chunks on two and three threads come out whole and in order, the
    // chunk boundaries invisible in every format.
    @Test func rowsRenderedOnSeveralThreadsMatch() throws {
        let sessions = Self.sessions(count: SessionRows.parallelRowsMin * 2 + 3)
        for format in OutputFormat.allCases {
            let expected = Self.writer(sessions, format)
            for threads in [2, 3] {
                #expect(try Self.rows(sessions, format, threads: threads) == expected)
            }
        }
    }
}
