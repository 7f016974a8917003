/// The rows of `sessions` as bytes: what `RowWriter` prints for `SessionsCommand.cells` of each
/// session, byte for byte, written straight from the sessions (a `[Cell]` per row, its strings
/// retained and released, was most of the command's time after the fold). The rows render in
/// chunks on the scan threads at once; text alignment comes first, from the first
/// `RowWriter.alignmentRowsMax` rows, as the writer computes it.
struct SessionRows: Sendable {
    let format: OutputFormat
    /// The text columns' widths (nil for json and csv).
    let widths: [Int]?
    /// The widths summed: the most padding a row can take.
    private let paddingMax: Int
    /// `"column":` for each column, for json.
    private let jsonKeys: [[UInt8]]

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
            paddingMax = 0
            return
        }
        var widths = columns.map { $0.count }
        var cell: [UInt8] = []
        for session in sessions.prefix(RowWriter.alignmentRowsMax) {
            for (column, value) in SessionsCommand.cells(session).enumerated() {
                cell.removeAll(keepingCapacity: true)
                CellBytes.appendPlain(value, to: &cell, nullText: "-")
                widths[column] = max(widths[column], Self.displayWidth(cell))
            }
        }
        self.widths = widths
        paddingMax = widths.reduce(0, +) + 2 * widths.count
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
                var days = DayCache()
                let scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: scratchBytes)
                defer { scratch.deallocate() }
                for index in bounds[chunk]..<bounds[chunk + 1] {
                    rows.append(sessions[index], to: &bytes, days: &days, scratch: scratch)
                }
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
                let name = Array(column.uppercased().utf8)
                out.append(contentsOf: name)
                if index < columns.count - 1 {
                    let padding = max((widths?[index] ?? 0) - Self.displayWidth(name), 0) + 2
                    out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
                }
            }
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// Room a row is written into before it is appended (a longer row gets room of its own).
    static let scratchBytes = 1 << 16

    /// One session's row, newline included, written with plain stores into `scratch` (or room of
    /// its own when the longest it can be, each string escaped and every column padded, does not
    /// fit), then appended at once. `days` carries the date of the last timestamp from row to row.
    func append(
        _ session: Session, to out: inout [UInt8], days: inout DayCache, scratch: UnsafeMutableBufferPointer<UInt8>
    ) {
        let strings =
            session.id.utf8.count + session.name.utf8.count + session.node.utf8.count
            + session.network.utf8.count + session.address.utf8.count
        let bound = strings * 6 + paddingMax + 512
        guard bound > scratch.count else {
            var row = RowCursor(base: scratch.baseAddress!, capacity: scratch.count)
            write(session, to: &row, days: &days)
            out.append(contentsOf: UnsafeBufferPointer(start: scratch.baseAddress, count: row.count))
            return
        }
        let room = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bound)
        defer { room.deallocate() }
        var row = RowCursor(base: room.baseAddress!, capacity: room.count)
        write(session, to: &row, days: &days)
        out.append(contentsOf: UnsafeBufferPointer(start: room.baseAddress, count: row.count))
    }

    private func write(_ session: Session, to row: inout RowCursor, days: inout DayCache) {
        let count = SessionsCommand.columns.count
        switch format {
        case .json:
            row.put(UInt8(ascii: "{"))
            for column in 0..<count {
                if column > 0 { row.put(UInt8(ascii: ",")) }
                row.put(jsonKeys[column])
                switch column {
                case 0: row.putJSONString(session.id)
                case 1: row.putJSONString(session.name)
                case 2: row.putJSONString(session.node)
                case 3: row.putJSONString(session.network)
                case 4: row.putJSONString(session.address)
                case 5, 6:
                    guard let time = column == 5 ? session.startMicroseconds : session.endMicroseconds else {
                        row.put(Self.null)
                        continue
                    }
                    row.put(UInt8(ascii: "\""))
                    row.putTime(time, days: &days)
                    row.put(UInt8(ascii: "\""))
                case 7: row.putJSONString(session.end.rawValue)
                case 8: row.putInteger(Int64(session.renews))
                default: row.putSeconds(session.maxGapMicroseconds)
                }
            }
            row.put(UInt8(ascii: "}"))
        case .csv, .text:
            let csv = format == .csv
            for column in 0..<count {
                if csv, column > 0 { row.put(UInt8(ascii: ",")) }
                let start = row.count
                // Only strings can hold bytes that are not characters of their own.
                var width: Int?
                switch column {
                case 0: width = row.putPlain(session.id, csv: csv)
                case 1: width = row.putPlain(session.name, csv: csv)
                case 2: width = row.putPlain(session.node, csv: csv)
                case 3: width = row.putPlain(session.network, csv: csv)
                case 4: width = row.putPlain(session.address, csv: csv)
                case 5: row.putTime(session.startMicroseconds, days: &days)
                case 6:
                    if let end = session.endMicroseconds {
                        row.putTime(end, days: &days)
                    } else if !csv {
                        row.put(UInt8(ascii: "-"))
                    }
                case 7: width = row.putPlain(session.end.rawValue, csv: csv)
                case 8: row.putInteger(Int64(session.renews))
                default: row.putSeconds(session.maxGapMicroseconds)
                }
                if !csv, column < count - 1, let widths {
                    row.putSpaces(max(widths[column] - (width ?? row.count - start), 0) + 2)
                }
            }
        }
        row.put(UInt8(ascii: "\n"))
    }

    private static let null: [UInt8] = Array("null".utf8)

    /// Characters, counting UTF-8 lead bytes only (`RowWriter`'s measure).
    private static func displayWidth(_ bytes: [UInt8]) -> Int {
        bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }
}

/// The date part of the last timestamp written (`YYYY-MM-DDT`): the rows of one listing fall on
/// few days, so the calendar arithmetic runs once a day rather than once a cell.
struct DayCache {
    var day = Int64.min
    var prefix: (UInt64, UInt32) = (0, 0)
}
