#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed buffer one row is encoded into with plain stores, then appended to the output in
/// one call: the hot path of `events --format json` (a million rows in well under a second).
///
/// Sized for the worst row: 16 fields of `EventCodec.fieldBytesMax` bytes, each escaped to at
/// most 6 bytes per byte.
final class RowScratch {
    static let capacity = 16 * 4096 * 6 + 4096
    let base: UnsafeMutablePointer<UInt8>

    init() {
        base = .allocate(capacity: Self.capacity)
    }

    deinit {
        base.deallocate()
    }
}

/// A write position in a `RowScratch`.
struct ScratchCursor {
    let base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0

    init(_ scratch: RowScratch) {
        base = scratch.base
    }

    mutating func put(_ byte: UInt8) {
        precondition(count < RowScratch.capacity, "row exceeds \(RowScratch.capacity) bytes")
        base[count] = byte
        count += 1
    }

    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(count + bytes.count <= RowScratch.capacity, "row exceeds \(RowScratch.capacity) bytes")
        guard let source = bytes.baseAddress else { return }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    /// A JSON string; values without quotes, backslashes or control bytes are copied whole.
    mutating func putJSONString(_ value: String) {
        var text = value
        text.withUTF8 { source in
            if source.contains(where: {
                $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0x7F
            }) {
                var escaped: [UInt8] = []
                CellBytes.appendJSONString(String(decoding: source, as: UTF8.self), to: &escaped)
                put(escaped)
            } else {
                put(UInt8(ascii: "\""))
                put(source)
                put(UInt8(ascii: "\""))
            }
        }
    }

    mutating func putUnsigned(_ value: UInt64) {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        precondition(count + digits <= RowScratch.capacity, "row exceeds \(RowScratch.capacity) bytes")
        rest = value
        for index in stride(from: count + digits - 1, through: count, by: -1) {
            base[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        count += digits
    }

    /// The written bytes.
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }
}
