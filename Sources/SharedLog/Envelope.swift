import EventLog

/// The envelope around every compressed value in the database (a batch row's `frame`, a
/// snapshot's `blob`): version, plain length, CRC32C of the plain bytes, one zstd frame.
/// Byte by byte in docs/FORMAT.md ("Shared log in PostgreSQL").
enum Envelope {
    static let version: UInt8 = 1
    static let headerBytes = 9
    /// Limit on a plain body: larger claims are damage, not data.
    static let plainBytesMax = 256 << 20

    static func seal(_ plain: [UInt8], level: Int) -> [UInt8] {
        precondition(plain.count <= plainBytesMax, "plain body of \(plain.count) bytes exceeds \(plainBytesMax)")
        let compressed: [UInt8]
        do {
            compressed = try Zstd.compress(plain, level: level)
        } catch {
            preconditionFailure("zstd compression of \(plain.count) bytes failed: \(error)")
        }
        var out: [UInt8] = []
        out.reserveCapacity(headerBytes + compressed.count)
        out.append(version)
        appendUInt32(&out, UInt32(plain.count))
        appendUInt32(&out, CRC32C.checksum(plain))
        out.append(contentsOf: compressed)
        return out
    }

    /// The plain body, or a reason why the bytes are not a valid envelope.
    static func open(_ bytes: [UInt8]) -> Result<[UInt8], EnvelopeFailure> {
        guard bytes.count >= headerBytes else { return .failure(.init("\(bytes.count) bytes, shorter than the header")) }
        guard bytes[0] == version else { return .failure(.init("version \(bytes[0]), this build reads \(version)")) }
        let length = Int(readUInt32(bytes, at: 1))
        let crc = readUInt32(bytes, at: 5)
        guard length <= plainBytesMax else { return .failure(.init("plain length \(length) exceeds \(plainBytesMax)")) }
        let plain: [UInt8]
        do {
            plain = try Zstd.decompress(Array(bytes[headerBytes...]), size: length)
        } catch {
            return .failure(.init("\(error)"))
        }
        let actual = CRC32C.checksum(plain)
        guard actual == crc else {
            return .failure(.init("CRC32C \(hex(actual)) does not match the stored \(hex(crc))"))
        }
        return .success(plain)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// Why an envelope did not open.
struct EnvelopeFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

func appendUInt32(_ out: inout [UInt8], _ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
}

func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    var value: UInt32 = 0
    for index in 0..<4 { value |= UInt32(bytes[offset + index]) << UInt32(index * 8) }
    return value
}

func appendVarint(_ out: inout [UInt8], _ value: UInt64) {
    var value = value
    while value >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: value) | 0x80)
        value >>= 7
    }
    out.append(UInt8(value))
}

/// Reads LEB128 varints from a byte array, never past its end.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
