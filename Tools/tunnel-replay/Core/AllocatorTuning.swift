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

    /// The variable that turns the huge-page restart off (`0`).
    static let hugePagesVariable = "TUNNEL_REPLAY_HUGE_PAGES"
    static let hugePagesTunable = "glibc.malloc.hugetlb=1"

    /// Restarts the process once with glibc's `glibc.malloc.hugetlb=1` tunable when the kernel
    /// gives transparent huge pages only to memory that asks for them (THP mode "madvise"): the
    /// heap then grows in 2 MB pages, and a scan that touches a few hundred megabytes of fresh
    /// memory takes half the page faults (`sessions` over one hour of the 50,000,000-event bench
    /// log: 60,500 → 29,700 faults, 0.17 → 0.11 s of system time; README "Auditing with
    /// `tunnel-replay`"). A tunable is read only when a process starts, hence the restart: an exec
    /// of the same binary with the same arguments, before anything is read or written. Skipped
    /// when the tunable is set already, under valgrind (which would not follow the exec), or with
    /// `TUNNEL_REPLAY_HUGE_PAGES=0`; when the exec fails, the process carries on as it is.
    static func restartWithHugePages() {
        #if os(Linux)
        if let value = getenv(hugePagesVariable), String(cString: value) == "0" { return }
        let tunables = getenv("GLIBC_TUNABLES").map { String(cString: $0) }
        guard !(tunables ?? "").contains("glibc.malloc.hugetlb") else { return }
        if let preload = getenv("LD_PRELOAD"), String(cString: preload).contains("vgpreload") { return }
        guard transparentHugePagesMode() == "madvise" else { return }
        let updated = tunables.map { $0.isEmpty ? hugePagesTunable : $0 + ":" + hugePagesTunable } ?? hugePagesTunable
        setenv("GLIBC_TUNABLES", updated, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        if let tunables {
            setenv("GLIBC_TUNABLES", tunables, 1)
        } else {
            unsetenv("GLIBC_TUNABLES")
        }
        #endif
    }

    /// The kernel's transparent huge page mode (`always`, `madvise` or `never`; nil when unknown).
    static func transparentHugePagesMode() -> String? {
        #if os(Linux)
        let descriptor = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return selectedMode(String(decoding: bytes[..<count], as: UTF8.self))
        #else
        return nil
        #endif
    }

    /// The bracketed choice of a sysfs setting (`always [madvise] never` → `madvise`).
    static func selectedMode(_ text: String) -> String? {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return nil }
        return String(text[text.index(after: open)..<close])
    }

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
