/// Appends little-endian integers, LEB128 varints and length-prefixed strings to a buffer.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    mutating func writeByte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Zigzag keeps small negative numbers short.
    mutating func writeSignedVarint(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func writeString(_ value: String) {
        writeVarint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    mutating func writeFixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    mutating func writeFixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    mutating func writeBytes(_ value: [UInt8]) {
        bytes.append(contentsOf: value)
    }
}

/// Why bytes could not be read: the offset and what was expected there.
struct ByteReaderError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String

    var description: String { "at byte \(offset): \(reason)" }
}

/// Reads what `ByteWriter` wrote, checking every length against the bytes left.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func readByte() throws(ByteReaderError) -> UInt8 {
        guard offset < bytes.count else {
            throw ByteReaderError(offset: offset, reason: "unexpected end of data")
        }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readVarint() throws(ByteReaderError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 {
                throw ByteReaderError(offset: offset - 1, reason: "varint overflows 64 bits")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 {
                throw ByteReaderError(offset: offset, reason: "varint longer than 10 bytes")
            }
        }
    }

    mutating func readSignedVarint() throws(ByteReaderError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// `what` names the count in an error; an autoclosure so the hot path builds no string.
    mutating func readCount(max: Int, what: @autoclosure () -> String) throws(ByteReaderError) -> Int {
        let start = offset
        let value = try readVarint()
        guard value <= UInt64(max) else {
            throw ByteReaderError(offset: start, reason: "\(what()) of \(value) exceeds the limit of \(max)")
        }
        return Int(value)
    }

    /// A length-prefixed UTF-8 string of at most `maxBytes` bytes.
    mutating func readString(maxBytes: Int, field: String) throws(ByteReaderError) -> String {
        let length = try readCount(max: maxBytes, what: "\(field) length")
        guard length <= remaining else {
            throw ByteReaderError(
                offset: offset, reason: "\(field) length \(length) exceeds the \(remaining) bytes left")
        }
        let start = offset
        let value = bytes.withUnsafeBufferPointer { buffer -> String? in
            let slice = UnsafeBufferPointer(rebasing: buffer[start..<start + length])
            // Fields are almost always ASCII: check that in one pass and skip full validation.
            var highBits: UInt8 = 0
            for byte in slice { highBits |= byte }
            if highBits < 0x80 { return String(decoding: slice, as: UTF8.self) }
            return String(validating: slice, as: UTF8.self)
        }
        guard let value else {
            throw ByteReaderError(offset: offset, reason: "\(field) is not valid UTF-8")
        }
        offset += length
        return value
    }

    mutating func readFixed64() throws(ByteReaderError) -> UInt64 {
        guard remaining >= 8 else {
            throw ByteReaderError(offset: offset, reason: "unexpected end of data in a 64-bit field")
        }
        var value: UInt64 = 0
        for index in 0..<8 {
            value |= UInt64(bytes[offset + index]) << UInt64(8 * index)
        }
        offset += 8
        return value
    }

    mutating func readFixed32() throws(ByteReaderError) -> UInt32 {
        guard remaining >= 4 else {
            throw ByteReaderError(offset: offset, reason: "unexpected end of data in a 32-bit field")
        }
        var value: UInt32 = 0
        for index in 0..<4 {
            value |= UInt32(bytes[offset + index]) << UInt32(8 * index)
        }
        offset += 4
        return value
    }

    mutating func readBytes(_ count: Int) throws(ByteReaderError) -> [UInt8] {
        guard count <= remaining else {
            throw ByteReaderError(offset: offset, reason: "\(count) bytes wanted, \(remaining) left")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
