/// Appends bytes, LEB128 varints and length-prefixed strings to a buffer.
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
}

/// Why bytes could not be read: the offset and what was expected there.
struct ByteReaderError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String

    var description: String { "at byte \(offset): \(reason)" }
}

/// Reads what `ByteWriter` wrote from borrowed bytes (a snapshot's projection, an event payload
/// inside a decoded log batch), checking every length against the bytes left. The one reader of
/// the registry's binary formats: varints of at most 10 bytes, length-prefixed UTF-8 strings.
@usableFromInline
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    @inline(__always)
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

    /// The bytes of a length-prefixed UTF-8 string of at most `maxBytes` bytes, valid while
    /// `bytes` is.
    mutating func readUTF8(maxBytes: Int, field: StaticString) throws(ByteReaderError) -> UnsafeRawBufferPointer {
        // Lengths below 128 (every field the server accepts) are one byte: read them inline.
        let length: Int
        if offset < bytes.count, bytes[offset] < 0x80, Int(bytes[offset]) <= maxBytes {
            length = Int(bytes[offset])
            offset += 1
        } else {
            length = try readCount(max: maxBytes, what: "\(field) length")
        }
        guard length <= remaining else {
            throw ByteReaderError(
                offset: offset,
                reason: "\(field) length \(length) exceeds the \(remaining) bytes left"
            )
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
        // Fields are almost always ASCII: check that eight bytes at a time and validate only the others.
        if !ByteReader.isASCII(slice),
            String(validating: slice.assumingMemoryBound(to: UInt8.self), as: UTF8.self) == nil
        {
            throw ByteReaderError(offset: offset, reason: "\(field) is not valid UTF-8")
        }
        offset += length
        return slice
    }

    /// The bytes of a length-prefixed field shorter than 128 bytes, not checked as UTF-8 (the
    /// caller checks); nil when the length takes more than one byte or exceeds the bytes left.
    @inline(__always)
    mutating func readShortField() -> UnsafeRawBufferPointer? {
        guard offset < bytes.count else { return nil }
        let length = Int(bytes[offset])
        guard length < 0x80, length < bytes.count - offset else { return nil }
        let start = offset + 1
        offset = start + length
        return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
    }

    /// Whether every byte of `bytes` is below 0x80.
    @inlinable
    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var highBits: UInt64 = 0
        var offset = 0
        let count = bytes.count
        // Whole words, then the tail as the word (or two half words) ending the bytes, overlapping
        // bytes already read: a field of 9 to 15 bytes was a word and a byte loop of up to 7.
        while offset + 8 <= count {
            highBits |= base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        if offset < count {
            if count >= 8 {
                highBits |= base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            } else if count >= 4 {
                highBits |= UInt64(base.loadUnaligned(as: UInt32.self))
                highBits |= UInt64(base.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
            } else {
                while offset < count {
                    highBits |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self))
                    offset += 1
                }
            }
        }
        return highBits & 0x8080_8080_8080_8080 == 0
    }

    /// A length-prefixed UTF-8 string of at most `maxBytes` bytes.
    mutating func readString(maxBytes: Int, field: StaticString) throws(ByteReaderError) -> String {
        String(decoding: try readUTF8(maxBytes: maxBytes, field: field), as: UTF8.self)
    }
}
