import FileStore
import Registry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A registry data directory opened read-only: `DIR/log/*.seg` and `DIR/snapshots/`.
struct DataDirectory {
    let path: String

    var logPath: String { path + "/log" }
    var snapshotsPath: String { path + "/snapshots" }

    /// Checks that `path` holds a log; throws a message that says what to pass instead. Trailing
    /// slashes (a shell's completion of a directory) are dropped, so `DIR/` reads and names its
    /// files exactly as `DIR` does.
    init(path given: String) throws(ReplayError) {
        var path = given
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.path = path
        guard Self.isDirectory(path) else {
            throw .unreadable(
                "the data directory '\(path)' does not exist or is not a directory: pass --data-dir with the"
                    + " registry's data directory (the one holding log/ and snapshots/)"
            )
        }
        guard Self.isDirectory(logPath) else {
            let hint = path.hasSuffix("/log") || path.hasSuffix("/log/") ? " (pass its parent, not log/ itself)" : ""
            throw .unreadable(
                "'\(path)' has no log/ directory\(hint): pass --data-dir with the registry's data directory"
                    + " (the one holding log/ and snapshots/)"
            )
        }
    }

    func snapshotStore() -> SnapshotStore {
        SnapshotStore(directory: snapshotsPath)
    }

    /// The path `verify` names for the snapshot at `sequence` (`snapshots/<20 digits>.snap`).
    func snapshotFile(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return "snapshots/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".snap"
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }
}
