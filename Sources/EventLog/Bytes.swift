/// Little-endian integers and LEB128 varints, the only encodings the format uses.
extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var little = value.littleEndian
        Swift.withUnsafeBytes(of: &little) { append(contentsOf: $0) }
    }

    mutating func storeLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "store at \(offset) past \(count)")
        withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
    }

    mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        append(UInt8(rest))
    }
}

extension UnsafeRawBufferPointer {
    func loadLittleEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "load at \(offset) past \(count)")
        return T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

enum Varint {
    /// Bytes `value` takes as a varint.
    static func size(_ value: UInt64) -> Int {
        var bytes = 1
        var rest = value >> 7
        while rest != 0 {
            bytes += 1
            rest >>= 7
        }
        return bytes
    }

    /// Reads a varint at `offset` (advanced past it); nil when it runs past the end or past 10 bytes.
    static func read(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var position = offset
        while position < bytes.count, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                offset = position
                return value
            }
            shift += 7
        }
        return nil
    }
}
