#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One value of an output row; the writer renders it for text, json or csv.
enum Cell {
    case text(String)
    case int(Int64)
    /// Microseconds since the epoch, rendered as RFC 3339 UTC with microseconds.
    case time(Int64)
    /// A duration in microseconds, rendered as seconds (`15`, `15.25`).
    case seconds(Int64)
    /// A ratio, rendered with two decimals.
    case decimal(Double)
    case null
    case list([Cell])
    /// Rendered as a nested object in json, `key=value` pairs in text and csv.
    case object([(String, Cell)])

    static func optionalTime(_ value: Int64?) -> Cell { value.map(Cell.time) ?? .null }
}

/// Appends cells as bytes: the shared leaves of the three formats.
enum CellBytes {
    /// The plain rendering used by text and csv.
    static func appendPlain(_ cell: Cell, to bytes: inout [UInt8], nullText: String) {
        switch cell {
        case .text(let value): bytes.append(contentsOf: value.utf8)
        case .int(let value): appendInteger(value, to: &bytes)
        case .time(let value): Timestamp.appendFormatted(value, to: &bytes)
        case .seconds(let value): appendSeconds(value, to: &bytes)
        case .decimal(let value): appendDecimal(value, to: &bytes)
        case .null: bytes.append(contentsOf: nullText.utf8)
        case .list(let values):
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: " ")) }
                appendPlain(value, to: &bytes, nullText: nullText)
            }
        case .object(let pairs):
            for (index, (key, value)) in pairs.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: " ")) }
                bytes.append(contentsOf: key.utf8)
                bytes.append(UInt8(ascii: "="))
                appendPlain(value, to: &bytes, nullText: nullText)
            }
        }
    }

    static func appendJSON(_ cell: Cell, to bytes: inout [UInt8]) {
        switch cell {
        case .text(let value): appendJSONString(value, to: &bytes)
        case .int(let value): appendInteger(value, to: &bytes)
        case .time(let value):
            bytes.append(UInt8(ascii: "\""))
            Timestamp.appendFormatted(value, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        case .seconds(let value): appendSeconds(value, to: &bytes)
        case .decimal(let value): appendDecimal(value, to: &bytes)
        case .null: bytes.append(contentsOf: "null".utf8)
        case .list(let values):
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendJSON(value, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let pairs):
            appendJSONObject(pairs, to: &bytes)
        }
    }

    static func appendJSONObject(_ pairs: [(String, Cell)], to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        for (index, (key, value)) in pairs.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendJSONString(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            appendJSON(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    static func appendJSONString(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { source in
            // Most values need no escaping: copy them in one go.
            if source.contains(where: {
                $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0x7F
            }) {
                appendEscaped(source, to: &bytes)
            } else {
                bytes.append(contentsOf: source)
            }
        }
        if done == nil { appendEscaped(Array(value.utf8), to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped<C: Collection<UInt8>>(_ source: C, to bytes: inout [UInt8]) {
        for byte in source {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
    }

    static func appendInteger(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendUnsigned(UInt64(-(value + 1)) + 1, to: &bytes)
        } else {
            appendUnsigned(UInt64(value), to: &bytes)
        }
    }

    static func appendUnsigned(_ value: UInt64, to bytes: inout [UInt8]) {
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(raw[index]) }
        }
    }

    /// Seconds with up to six decimals, trailing zeros trimmed: `15`, `15.25`, `-0.5`
    /// (`RowCursor.putSeconds`, the one encoding of it).
    static func appendSeconds(_ microseconds: Int64, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { room in
            var cursor = RowCursor(base: room.baseAddress!, capacity: room.count)
            cursor.putSeconds(microseconds)
            bytes.append(contentsOf: cursor.bytes)
        }
    }

    /// Two decimals, rounded half away from zero.
    static func appendDecimal(_ value: Double, to bytes: inout [UInt8]) {
        guard value.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        let hundredths = Int64((value * 100).rounded(.toNearestOrAwayFromZero))
        if hundredths < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = hundredths.magnitude
        appendUnsigned(magnitude / 100, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(magnitude / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
    }
}
