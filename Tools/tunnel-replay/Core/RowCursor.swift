/// A write position in room sized for a whole row (a `RowScratch`, or the room `SessionRows`
/// measures for a session): a row is encoded with plain stores, then appended to the output at
/// once. Every store is checked against the room's capacity.
struct RowCursor {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    init(_ scratch: RowScratch) {
        self.init(base: scratch.base, capacity: RowScratch.capacity)
    }

    /// The written bytes.
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    private func ensure(_ more: Int) {
        precondition(count + more <= capacity, "row exceeds its \(capacity) bytes of room")
    }

    @inline(__always)
    mutating func put(_ byte: UInt8) {
        ensure(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        ensure(bytes.count)
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    mutating func putSpaces(_ spaces: Int) {
        ensure(spaces)
        (base + count).update(repeating: UInt8(ascii: " "), count: spaces)
        count += spaces
    }

    /// A text or csv cell (`CellBytes.appendPlain`), quoted for csv when it holds a comma, quote or
    /// line break, its quotes doubled (`RowWriter`'s rule); returns its display width, counting
    /// UTF-8 lead bytes only (`RowWriter`'s measure).
    mutating func putPlain(_ value: String, csv: Bool) -> Int {
        var text = value
        return text.withUTF8 { bytes in
            var width = 0
            var quote = false
            for byte in bytes {
                if byte & 0xC0 != 0x80 { width += 1 }
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n")
                    || byte == UInt8(ascii: "\r")
                {
                    quote = true
                }
            }
            guard csv, quote else {
                put(bytes)
                return width
            }
            put(UInt8(ascii: "\""))
            for byte in bytes {
                if byte == UInt8(ascii: "\"") { put(byte) }
                put(byte)
            }
            put(UInt8(ascii: "\""))
            return width
        }
    }

    /// A JSON string (`CellBytes.appendJSONString`), copied whole unless it needs escapes.
    mutating func putJSONString(_ value: String) {
        var text = value
        text.withUTF8 { bytes in
            if bytes.contains(where: {
                $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0x7F
            }) {
                var escaped: [UInt8] = []
                CellBytes.appendJSONString(value, to: &escaped)
                put(escaped)
            } else {
                put(UInt8(ascii: "\""))
                put(bytes)
                put(UInt8(ascii: "\""))
            }
        }
    }

    /// `CellBytes.appendInteger`.
    mutating func putInteger(_ value: Int64) {
        if value < 0 {
            put(UInt8(ascii: "-"))
            putUnsigned(UInt64(-(value + 1)) + 1)
        } else {
            putUnsigned(UInt64(value))
        }
    }

    mutating func putUnsigned(_ value: UInt64) {
        let digits = Self.decimalDigits(value)
        ensure(digits)
        Self.writeDecimal(value, digits: digits, at: base + count)
        count += digits
    }

    /// How many decimal digits `value` takes.
    static func decimalDigits(_ value: UInt64) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }

    /// Writes `value`'s `digits` decimal digits at `destination`.
    @inline(__always)
    static func writeDecimal(_ value: UInt64, digits: Int, at destination: UnsafeMutablePointer<UInt8>) {
        var rest = value
        for index in stride(from: digits - 1, through: 0, by: -1) {
            destination[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
    }

    /// Seconds with up to six decimals, trailing zeros trimmed: `15`, `15.25`, `-0.5`.
    mutating func putSeconds(_ microseconds: Int64) {
        if microseconds < 0 { put(UInt8(ascii: "-")) }
        let magnitude = microseconds.magnitude
        putUnsigned(magnitude / 1_000_000)
        var fraction = magnitude % 1_000_000
        guard fraction > 0 else { return }
        var digits = 6
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        put(UInt8(ascii: "."))
        ensure(digits)
        for index in stride(from: digits - 1, through: 0, by: -1) {
            base[count + index] = UInt8(ascii: "0") + UInt8(fraction % 10)
            fraction /= 10
        }
        count += digits
    }

    /// `Timestamp.appendFormatted` (27 bytes), the date part from `days` when the day repeats.
    mutating func putTime(_ microseconds: Int64, days: inout DayCache) {
        let day = Timestamp.floorDivide(microseconds, Timestamp.microsecondsPerDay)
        if day != days.day {
            Timestamp.withFormatted(microseconds) { text in
                let raw = UnsafeRawPointer(text.baseAddress!)
                days.prefix = (
                    raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
                )
            }
            days.day = day
        }
        ensure(11)
        withUnsafeBytes(of: days.prefix) { prefix in
            (base + count).update(from: prefix.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 11)
        }
        count += 11
        let inDay = microseconds - day * Timestamp.microsecondsPerDay
        let seconds = inDay / Timestamp.microsecondsPerSecond
        putDigits(seconds / 3600, 2)
        put(UInt8(ascii: ":"))
        putDigits((seconds / 60) % 60, 2)
        put(UInt8(ascii: ":"))
        putDigits(seconds % 60, 2)
        put(UInt8(ascii: "."))
        putDigits(inDay % Timestamp.microsecondsPerSecond, 6)
        put(UInt8(ascii: "Z"))
    }

    /// The last `digits` decimal digits of `value` (`Timestamp`'s fixed-width fields).
    private mutating func putDigits(_ value: Int64, _ digits: Int) {
        ensure(digits)
        var rest = value
        for index in stride(from: digits - 1, through: 0, by: -1) {
            base[count + index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        count += digits
    }
}
