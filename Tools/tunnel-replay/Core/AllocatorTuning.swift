#if canImport(Glibc)
import Glibc
#endif

/// Keeps freed memory in the process: `verify` and `sessions` encode, decompress and grow buffers
/// of many megabytes, hundreds of times, and glibc's defaults hand each such buffer back to the
/// kernel when freed (a fresh mapping, or a trim of the heap's top), so the next one is
/// page-faulted in again (5.6% of `verify`'s cycles on the 50,000,000-event bench log).
enum AllocatorTuning {
    /// Blocks below this come from the heap, not a fresh mapping (glibc's maximum on 64-bit).
    static let mmapThresholdBytes: Int32 = 32 << 20
    /// Free memory at the heap's top kept before trimming.
    static let trimThresholdBytes: Int32 = 512 << 20

    static func apply() {
        #if canImport(Glibc)
        // `mallopt` is declared in <malloc.h>, which the Glibc module does not export; the
        // parameter numbers are glibc's (M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3).
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-3, mmapThresholdBytes)
        _ = mallopt(-1, trimThresholdBytes)
        #endif
    }
}
