import CCRC32C

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the processor's crc32 instruction where
/// it has one (SSE 4.2), else slicing-by-8 over eight 256-entry tables. Check value:
/// `checksum("123456789") == 0xE3069283`. The one implementation in the project: log frames and
/// headers, and the registry's snapshots, are checked with it. The tables ran at 1.6 GB/s, a
/// twentieth of `tunnel-replay verify`'s cycles on the bench log, whose 500 snapshots hold 1.1 GB.
public enum CRC32C {
    /// Whether `checksum` uses the crc32 instruction.
    public static let usesInstruction = tunnel_registry_crc32c_available() != 0

    /// Eight tables of 256 entries, table k at `k * 256`.
    static let table: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
            }
            table[index] = crc
        }
        for slice in 1..<8 {
            for index in 0..<256 {
                let previous = table[(slice - 1) * 256 + index]
                table[slice * 256 + index] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return table
    }()

    /// The CRC32C of `bytes`, continuing from `initial` (the CRC of the bytes before).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing initial: UInt32 = 0) -> UInt32 {
        guard usesInstruction, let base = bytes.baseAddress, bytes.count > 0 else {
            return tableChecksum(bytes, continuing: initial)
        }
        return tunnel_registry_crc32c(initial, base, bytes.count)
    }

    /// `checksum` by the tables alone (where the instruction is missing, and for tests).
    public static func tableChecksum(_ bytes: UnsafeRawBufferPointer, continuing initial: UInt32 = 0) -> UInt32 {
        guard var pointer = bytes.baseAddress, bytes.count > 0 else { return initial }
        var remaining = bytes.count
        var crc = ~initial
        table.withUnsafeBufferPointer { tables in
            while remaining >= 8 {
                let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
                let low = UInt32(truncatingIfNeeded: word) ^ crc
                let high = UInt32(truncatingIfNeeded: word >> 32)
                crc =
                    tables[7 * 256 + Int(low & 0xFF)]
                    ^ tables[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ tables[5 * 256 + Int((low >> 16) & 0xFF)]
                    ^ tables[4 * 256 + Int(low >> 24)]
                    ^ tables[3 * 256 + Int(high & 0xFF)]
                    ^ tables[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ tables[1 * 256 + Int((high >> 16) & 0xFF)]
                    ^ tables[Int(high >> 24)]
                pointer += 8
                remaining -= 8
            }
            while remaining > 0 {
                let byte = UInt32(pointer.load(as: UInt8.self))
                crc = tables[Int((crc ^ byte) & 0xFF)] ^ (crc >> 8)
                pointer += 1
                remaining -= 1
            }
        }
        return ~crc
    }

    /// The CRC32C of a byte array.
    public static func checksum(_ bytes: [UInt8], continuing initial: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: initial) }
    }
}
