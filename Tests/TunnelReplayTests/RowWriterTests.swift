import Registry
import Testing

@testable import tunnel_replay

@Suite struct RowWriterTests {
    private func render(_ format: OutputFormat, _ rows: [[Cell]], columns: [String] = ["a", "b"]) -> String {
        let sink = OutputSink.capturing()
        let writer = RowWriter(format: format, columns: columns, sink: sink)
        for row in rows { writer.write(row) }
        writer.finish()
        return sink.captured
    }

    // Proves json is one object per line with fixed key order, escaped strings, null, numbers and times.
    @Test func jsonIsOneObjectPerLine() {
        let output = render(
            .json,
            [[.text("x\"y\\z\n\u{1}"), .null], [.int(-5), .time(0)], [.seconds(15_250_000), .decimal(14.456)]]
        )
        #expect(
            output == """
                {"a":"x\\"y\\\\z\\n\\u0001","b":null}
                {"a":-5,"b":"1970-01-01T00:00:00.000000Z"}
                {"a":15.25,"b":14.46}

                """
        )
    }

    // Proves csv has a header, quotes only what needs it, doubles quotes, and leaves nulls empty.
    @Test func csvQuotesWhatNeedsIt() {
        let output = render(.csv, [[.text("plain"), .text("a,b")], [.text("say \"hi\""), .null]])
        #expect(output == "a,b\nplain,\"a,b\"\n\"say \"\"hi\"\"\",\n")
    }

    // Proves an empty csv or text table still prints its header, so scripts see the columns.
    @Test func emptyTablesPrintTheHeader() {
        #expect(render(.csv, []) == "a,b\n")
        #expect(render(.text, []) == "A  B\n")
    }

    // Proves text columns align to the widest cell and nulls show as a dash.
    @Test func textAligns() {
        let output = render(.text, [[.text("long-value"), .int(1)], [.null, .int(22)]])
        #expect(output == "A           B\nlong-value  1\n-           22\n")
    }

    // Proves nested objects and lists render as JSON inside json rows and as plain words in text.
    @Test func nestedValues() {
        let cells: [Cell] = [.object([("register", .int(2)), ("renew", .int(0))]), .list([.text("x"), .text("y")])]
        #expect(render(.json, [cells]) == "{\"a\":{\"register\":2,\"renew\":0},\"b\":[\"x\",\"y\"]}\n")
        #expect(render(.csv, [cells]) == "a,b\nregister=2 renew=0,x y\n")
    }

    // Proves seconds keep microsecond precision and trim trailing zeros.
    @Test func secondsFormatting() {
        var bytes: [UInt8] = []
        for value: Int64 in [0, 15_000_000, 1, 2_500_000, -500_000, .min] {
            CellBytes.appendSeconds(value, to: &bytes)
            bytes.append(UInt8(ascii: " "))
        }
        #expect(String(decoding: bytes, as: UTF8.self) == "0 15 0.000001 2.5 -0.5 -9223372036854.775808 ")
    }

    // Proves the json fast path for events prints exactly what the generic cell path prints, escapes included.
    @Test func eventFastPathMatchesCells() {
        let event = RegistryEvent(
            sequence: 12345,
            timeMicroseconds: 1_795_662_840_000_001,
            kind: .renew,
            service: Service(id: "id\"q", name: "tab\tname\\", node: "n\u{00FC}de-\u{1}", network: "", address: ""),
            peer: "[::1]:5000"
        )
        let fast = OutputSink.capturing()
        let fastWriter = RowWriter(format: .json, columns: EventRow.columns, sink: fast)
        fastWriter.writeEvent(event)
        fastWriter.writeEvent(event)
        let cells = OutputSink.capturing()
        let cellWriter = RowWriter(format: .json, columns: EventRow.columns, sink: cells)
        cellWriter.write(EventRow.cells(event))
        cellWriter.write(EventRow.cells(event))
        #expect(fast.captured == cells.captured)
        let prefix = "{\"seq\":12345,\"time\":\"2026-11-26T03:14:00.000001Z\",\"kind\":\"renew\",\"id\":\"id\\\"q\""
        #expect(fast.captured.hasPrefix(prefix))
    }

    // Proves the eight-bytes-at-a-time escape check finds every byte JSON escapes, at every
    // position of fields up to 17 bytes, and passes every other byte.
    @Test func escapeCheckFindsEveryEscapedByte() {
        for length in 1...17 {
            for position in 0..<length {
                for byte in 0...255 {
                    var field = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    field[position] = UInt8(byte)
                    let escaped = byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F
                    let found = field.withUnsafeBytes { EventJSONEncoder.needsEscape($0) }
                    #expect(found == escaped, "byte \(byte) at \(position) of \(length)")
                }
            }
        }
    }
}
