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
    let sink: OutputSink
    private var pendingText: [[Cell]] = []
    private var widths: [Int]?
    private var started = false

    /// `"column":` for each column, encoded once.
    let jsonKeys: [[UInt8]]
    /// Where `writeEvent` encodes a row before appending it.
    let scratch = RowScratch()

    init(format: OutputFormat, columns: [String], sink: OutputSink) {
        self.format = format
        self.columns = columns
        self.sink = sink
        jsonKeys = columns.map { column in
            var key: [UInt8] = []
            CellBytes.appendJSONString(column, to: &key)
            key.append(UInt8(ascii: ":"))
            return key
        }
    }

    /// Writes one row; `row` has one cell per column, in column order.
    func write(_ row: [Cell]) {
        precondition(row.count == columns.count, "row has \(row.count) cells for \(columns.count) columns")
        // Work on a local buffer: appending through the sink's stored property would pay a
        // dynamic exclusivity check per byte run.
        var out: [UInt8] = []
        swap(&out, &sink.buffer)
        defer {
            swap(&out, &sink.buffer)
            sink.flushIfFull()
        }
        switch format {
        case .json:
            out.append(UInt8(ascii: "{"))
            for index in row.indices {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: jsonKeys[index])
                CellBytes.appendJSON(row[index], to: &out)
            }
            out.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
        case .csv:
            if !started {
                started = true
                writeCSV(columns.map(Cell.text), to: &out)
            }
            writeCSV(row, to: &out)
        case .text:
            if widths == nil {
                pendingText.append(row)
                if pendingText.count >= Self.alignmentRowsMax { flushPendingText(to: &out) }
                return
            }
            writeText(row, to: &out)
        }
    }

    /// Ends the table: prints held-back text rows (or the header of an empty table) and flushes.
    func finish() {
        if format == .text, widths == nil { flushPendingText(to: &sink.buffer) }
        if format == .csv, !started {
            started = true
            writeCSV(columns.map(Cell.text), to: &sink.buffer)
        }
        sink.flush()
    }

    /// Flushes what is buffered without ending the table (follow prints as events arrive).
    func flushNow() {
        if format == .text, widths == nil { flushPendingText(to: &sink.buffer) }
        sink.flush()
    }

    private func flushPendingText(to out: inout [UInt8]) {
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
        writeText(columns.map { Cell.text($0.uppercased()) }, to: &out)
        for row in pendingText { writeText(row, to: &out) }
        pendingText = []
    }

    private func writeText(_ row: [Cell], to out: inout [UInt8]) {
        guard let widths else { return }
        for (index, cell) in row.enumerated() {
            let start = out.count
            CellBytes.appendPlain(cell, to: &out, nullText: "-")
            if index < row.count - 1 {
                let written = displayWidth(out[start...])
                let padding = max(widths[index] - written, 0) + 2
                out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
            }
        }
        out.append(UInt8(ascii: "\n"))
    }

    private func writeCSV(_ row: [Cell], to out: inout [UInt8]) {
        var scratch: [UInt8] = []
        for (index, cell) in row.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            scratch.removeAll(keepingCapacity: true)
            CellBytes.appendPlain(cell, to: &scratch, nullText: "")
            let needsQuotes = scratch.contains { byte in
                byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n")
                    || byte == UInt8(ascii: "\r")
            }
            guard needsQuotes else {
                out.append(contentsOf: scratch)
                continue
            }
            out.append(UInt8(ascii: "\""))
            for byte in scratch {
                if byte == UInt8(ascii: "\"") { out.append(byte) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// Characters, counting UTF-8 lead bytes only, so names with accents still align.
    private func displayWidth<C: Collection<UInt8>>(_ bytes: C) -> Int {
        bytes.reduce(0) { $0 + (($1 & 0xC0) == 0x80 ? 0 : 1) }
    }
}
