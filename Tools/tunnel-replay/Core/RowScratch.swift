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
