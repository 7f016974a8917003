/// The rows of `sessions` as bytes: what `RowWriter` prints for `SessionsCommand.cells` of each
/// session, byte for byte, written straight from the sessions (a `[Cell]` per row, its strings
/// retained and released, was most of the command's time after the fold). The rows render in
/// chunks on the scan threads at once; text alignment comes first, from the first
/// `RowWriter.alignmentRowsMax` rows, as the writer computes it.
struct SessionRows: Sendable {
    let format: OutputFormat
    /// The text columns' widths (nil for json and csv).
    let widths: [Int]?
    /// `"column":` for each column, for json.
    private let jsonKeys: [[UInt8]]
    /// Spaces to pad text cells from.
    private static let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 64)

    /// Rows of at least this many sessions render on more than one thread.
    static let parallelRowsMin = 4096

    init(format: OutputFormat, sessions: [Session]) {
        self.format = format
        let columns = SessionsCommand.columns
        jsonKeys = columns.map { column in
            var key: [UInt8] = []
            CellBytes.appendJSONString(column, to: &key)
            key.append(UInt8(ascii: ":"))
            return key
        }
        guard format == .text else {
            widths = nil
            return
        }
        var widths = columns.map { $0.count }
        var cell: [UInt8] = []
        for session in sessions.prefix(RowWriter.alignmentRowsMax) {
            for column in columns.indices {
                cell.removeAll(keepingCapacity: true)
                Self.appendPlain(session, column: column, to: &cell, nullText: "-")
                widths[column] = max(widths[column], Self.displayWidth(cell[...]))
            }
        }
        self.widths = widths
    }

    /// Writes the table (header, when the format has one, and every row) to `sink` and flushes it.
    static func write(_ sessions: [Session], format: OutputFormat, to sink: OutputSink, threads: Int) throws {
        let rows = SessionRows(format: format, sessions: sessions)
        var header: [UInt8] = []
        rows.appendHeader(to: &header)
        sink.write(bytes: header)
        let chunks = sessions.count >= parallelRowsMin ? max(1, threads) : 1
        let bounds = (0...chunks).map { sessions.count * $0 / chunks }
        try OrderedWork<[UInt8]>.run(
            jobCount: chunks, threads: chunks,
            produce: { chunk, emit in
                var bytes: [UInt8] = []
                bytes.reserveCapacity((bounds[chunk + 1] - bounds[chunk]) * 192)
                for index in bounds[chunk]..<bounds[chunk + 1] { rows.append(sessions[index], to: &bytes) }
                try emit(bytes)
            },
            consume: { bytes in
                sink.write(bytes: bytes)
                return true
            })
        sink.flush()
    }

    /// The header line: capitalised and aligned for text, the column names for csv, none for json.
    func appendHeader(to out: inout [UInt8]) {
        let columns = SessionsCommand.columns
        switch format {
        case .json: return
        case .csv:
            for (index, column) in columns.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: column.utf8)
            }
            out.append(UInt8(ascii: "\n"))
        case .text:
            for (index, column) in columns.enumerated() {
                let start = out.count
                out.append(contentsOf: column.uppercased().utf8)
                if index < columns.count - 1 { pad(from: start, column: index, in: &out) }
            }
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// One session's row, newline included.
    func append(_ session: Session, to out: inout [UInt8]) {
        let count = SessionsCommand.columns.count
        switch format {
        case .json:
            out.append(UInt8(ascii: "{"))
            for column in 0..<count {
                if column > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: jsonKeys[column])
                Self.appendJSON(session, column: column, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .csv:
            for column in 0..<count {
                if column > 0 { out.append(UInt8(ascii: ",")) }
                let start = out.count
                Self.appendPlain(session, column: column, to: &out, nullText: "")
                Self.quoteIfNeeded(from: start, in: &out)
            }
        case .text:
            for column in 0..<count {
                let start = out.count
                Self.appendPlain(session, column: column, to: &out, nullText: "-")
                if column < count - 1 { pad(from: start, column: column, in: &out) }
            }
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// Pads the text cell written from `start` to its column's width, plus the two spaces between columns.
    private func pad(from start: Int, column: Int, in out: inout [UInt8]) {
        var padding = max((widths?[column] ?? 0) - Self.displayWidth(out[start...]), 0) + 2
        while padding > 0 {
            let run = min(padding, Self.spaces.count)
            out.append(contentsOf: Self.spaces[..<run])
            padding -= run
        }
    }

    /// Characters, counting UTF-8 lead bytes only (`RowWriter`'s measure).
    private static func displayWidth(_ bytes: ArraySlice<UInt8>) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            var width = 0
            for byte in buffer where byte & 0xC0 != 0x80 { width += 1 }
            return width
        }
    }

    /// Quotes the csv cell written from `start` when it holds a comma, quote or line break,
    /// doubling its quotes (`RowWriter`'s rule).
    private static func quoteIfNeeded(from start: Int, in out: inout [UInt8]) {
        let needsQuotes = out[start...].contains { byte in
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r")
        }
        guard needsQuotes else { return }
        let cell = Array(out[start...])
        out.removeSubrange(start...)
        out.append(UInt8(ascii: "\""))
        for byte in cell {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The plain (text and csv) rendering of one cell of `SessionsCommand.cells`.
    private static func appendPlain(_ session: Session, column: Int, to out: inout [UInt8], nullText: String) {
        switch column {
        case 0: out.append(contentsOf: session.id.utf8)
        case 1: out.append(contentsOf: session.name.utf8)
        case 2: out.append(contentsOf: session.node.utf8)
        case 3: out.append(contentsOf: session.network.utf8)
        case 4: out.append(contentsOf: session.address.utf8)
        case 5: Timestamp.appendFormatted(session.startMicroseconds, to: &out)
        case 6:
            if let end = session.endMicroseconds {
                Timestamp.appendFormatted(end, to: &out)
            } else {
                out.append(contentsOf: nullText.utf8)
            }
        case 7: out.append(contentsOf: session.end.rawValue.utf8)
        case 8: CellBytes.appendInteger(Int64(session.renews), to: &out)
        default: CellBytes.appendSeconds(session.maxGapMicroseconds, to: &out)
        }
    }

    /// The json rendering of one cell of `SessionsCommand.cells`.
    private static func appendJSON(_ session: Session, column: Int, to out: inout [UInt8]) {
        switch column {
        case 0: CellBytes.appendJSONString(session.id, to: &out)
        case 1: CellBytes.appendJSONString(session.name, to: &out)
        case 2: CellBytes.appendJSONString(session.node, to: &out)
        case 3: CellBytes.appendJSONString(session.network, to: &out)
        case 4: CellBytes.appendJSONString(session.address, to: &out)
        case 5, 6:
            guard let time = column == 5 ? session.startMicroseconds : session.endMicroseconds else {
                out.append(contentsOf: "null".utf8)
                return
            }
            out.append(UInt8(ascii: "\""))
            Timestamp.appendFormatted(time, to: &out)
            out.append(UInt8(ascii: "\""))
        case 7: CellBytes.appendJSONString(session.end.rawValue, to: &out)
        case 8: CellBytes.appendInteger(Int64(session.renews), to: &out)
        default: CellBytes.appendSeconds(session.maxGapMicroseconds, to: &out)
        }
    }
}
