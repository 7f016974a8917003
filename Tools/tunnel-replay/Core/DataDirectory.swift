#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventLog
import Registry

/// A registry data directory opened read-only: `DIR/log/*.seg` and `DIR/snapshots/`.
struct DataDirectory {
    let path: String

    var logPath: String { path + "/log" }
    var snapshotsPath: String { path + "/snapshots" }

    /// Checks that `path` holds a log; throws a message that says what to pass instead.
    init(path: String) throws(ReplayError) {
        self.path = path
        guard Self.isDirectory(path) else {
            throw .unreadable(
                "the data directory '\(path)' does not exist or is not a directory: pass --data-dir with the"
                    + " registry's data directory (the one holding log/ and snapshots/)")
        }
        guard Self.isDirectory(logPath) else {
            let hint = path.hasSuffix("/log") || path.hasSuffix("/log/") ? " (pass its parent, not log/ itself)" : ""
            throw .unreadable(
                "'\(path)' has no log/ directory\(hint): pass --data-dir with the registry's data directory"
                    + " (the one holding log/ and snapshots/)")
        }
    }

    /// The log reader; failures become an exit-2 message naming the directory.
    func reader() throws(ReplayError) -> EventLogReader {
        do {
            return try EventLogReader(directory: logPath)
        } catch {
            throw .unreadable("cannot read the log in '\(logPath)': \(error); check permissions, or run verify")
        }
    }

    func snapshotStore() -> SnapshotStore {
        SnapshotStore(directory: snapshotsPath)
    }

    /// Segment descriptions from headers (no decompression).
    func segments(_ reader: EventLogReader) throws(ReplayError) -> [SegmentInfo] {
        do {
            return try reader.segments()
        } catch {
            throw .unreadable("cannot list the segments in '\(logPath)': \(error); run verify to locate the damage")
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }
}
