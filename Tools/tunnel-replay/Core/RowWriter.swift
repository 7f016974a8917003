import ArgumentParser

/// How rows are printed: an aligned table, one JSON object per line, or CSV with a header.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case text, json, csv
}

/// Prints rows of cells under fixed column names in one of the three formats.
///
/// Text alignment is computed from the first `alignmentRowsMax` rows, then rows stream: the
/// memory stays bounded on a million-row listing.
final class RowWriter {
    static let alignmentRowsMax = 1000
    let format: OutputFormat
    let columns: [String]
    private let sink: OutputSink
    private var pendingText: [[Cell]] = []
    private var widths: [Int]?
    private var started = false

    init(format: OutputFormat, columns: [String], sink: OutputSink) {
        self.format = format
        self.columns = columns
        self.sink = sink
    }

    /// Writes one row; `row` has one cell per column, in column order.
    func write(_ row: [Cell]) {
        precondition(row.count == columns.count, "row has \(row.count) cells for \(columns.count) columns")
        switch format {
        case .json:
            sink.buffer.append(UInt8(ascii: "{"))
            for index in row.indices {
                if index > 0 { sink.buffer.append(UInt8(ascii: ",")) }
                CellBytes.appendJSONString(columns[index], to: &sink.buffer)
                sink.buffer.append(UInt8(ascii: ":"))
                CellBytes.appendJSON(row[index], to: &sink.buffer)
            }
            sink.buffer.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
        case .csv:
            if !started {
                started = true
                writeCSV(columns.map(Cell.text))
            }
            writeCSV(row)
        case .text:
            if widths == nil {
                pendingText.append(row)
                if pendingText.count >= Self.alignmentRowsMax { flushPendingText() }
                return
            }
            writeText(row)
        }
        sink.flushIfFull()
    }

    /// Ends the table: prints held-back text rows (or the header of an empty table) and flushes.
    func finish() {
        if format == .text, widths == nil { flushPendingText() }
        if format == .csv, !started {
            started = true
            writeCSV(columns.map(Cell.text))
        }
        sink.flush()
    }

    /// Flushes what is buffered without ending the table (follow prints as events arrive).
    func flushNow() {
        if format == .text, widths == nil { flushPendingText() }
        sink.flush()
    }

    private func flushPendingText() {
        var computed = columns.map { $0.count }
        var scratch: [UInt8] = []
        for row in pendingText {
            for (index, cell) in row.enumerated() {
                scratch.removeAll(keepingCapacity: true)
                CellBytes.appendPlain(cell, to: &scratch, nullText: "-")
                computed[index] = max(computed[index], displayWidth(scratch))
            }
        }
        widths = computed
        writeText(columns.map { Cell.text($0.uppercased()) })
        for row in pendingText { writeText(row) }
        pendingText = []
    }

    private func writeText(_ row: [Cell]) {
        guard let widths else { return }
        for (index, cell) in row.enumerated() {
            let start = sink.buffer.count
            CellBytes.appendPlain(cell, to: &sink.buffer, nullText: "-")
            if index < row.count - 1 {
                let written = displayWidth(sink.buffer[start...])
                let padding = max(widths[index] - written, 0) + 2
                sink.buffer.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
            }
        }
        sink.buffer.append(UInt8(ascii: "\n"))
    }

    private func writeCSV(_ row: [Cell]) {
        var scratch: [UInt8] = []
        for (index, cell) in row.enumerated() {
            if index > 0 { sink.buffer.append(UInt8(ascii: ",")) }
            scratch.removeAll(keepingCapacity: true)
            CellBytes.appendPlain(cell, to: &scratch, nullText: "")
            let needsQuotes = scratch.contains { byte in
                byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n")
                    || byte == UInt8(ascii: "\r")
            }
            guard needsQuotes else {
                sink.buffer.append(contentsOf: scratch)
                continue
            }
            sink.buffer.append(UInt8(ascii: "\""))
            for byte in scratch {
                if byte == UInt8(ascii: "\"") { sink.buffer.append(byte) }
                sink.buffer.append(byte)
            }
            sink.buffer.append(UInt8(ascii: "\""))
        }
        sink.buffer.append(UInt8(ascii: "\n"))
    }

    /// Characters, counting UTF-8 lead bytes only, so names with accents still align.
    private func displayWidth<C: Collection<UInt8>>(_ bytes: C) -> Int {
        bytes.reduce(0) { $0 + (($1 & 0xC0) == 0x80 ? 0 : 1) }
    }
}
