#if canImport(Glibc)
import Glibc
#endif

/// The one-writer-per-directory lock: `flock(LOCK_EX | LOCK_NB)` on `DIR/LOCK`, which holds the
/// owner's pid as text for people. Released by closing the descriptor (also when the process dies).
final class DirectoryLock: @unchecked Sendable {
    private let condition = Condition()
    private var fd: Int32
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// How long a held lock is retried before `.locked` is thrown.
    static let contendedMilliseconds = 2_000

    static func acquire(directory: String) throws -> DirectoryLock {
        let path = directory + "/" + SegmentFormat.lockFileName
        let fd = try FileIO.openFile(path, flags: O_RDWR | O_CREAT, operation: "open lock file")
        // A lock just released can still look held for a moment: a child process forked by
        // this process (to exec something else) shares the descriptor until its exec closes
        // it. So a held lock is tried again for up to `contendedMilliseconds` before refusing.
        var waitedMilliseconds = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK && waitedMilliseconds < contendedMilliseconds {
                usleep(10_000)
                waitedMilliseconds += 10
                continue
            }
            FileIO.closeFile(fd)
            if code == EWOULDBLOCK { throw EventLogError.locked(directory: directory) }
            throw EventLogError.io(operation: "flock", path: path, errno: code)
        }
        let pid = Array("\(getpid())\n".utf8)
        try? FileIO.truncate(fd, to: 0, path: path)
        try? FileIO.write(fd, pid, at: 0, path: path)
        return DirectoryLock(fd: fd, path: path)
    }

    /// Releases the lock; later calls do nothing.
    func release() {
        condition.withLock {
            guard fd >= 0 else { return }
            FileIO.closeFile(fd)
            fd = -1
        }
    }

    deinit {
        if fd >= 0 { FileIO.closeFile(fd) }
    }
}

/// The writer lock of a log directory as seen from outside: whether another process holds it,
/// and which one (the writer records its PID in `DIR/LOCK`).
public enum LogDirectoryLock {
    /// Throws `EventLogError.locked` when another writer holds `directory`'s lock; otherwise takes
    /// the lock and releases it at once. A missing directory is not locked. For a start-up check
    /// that reports a held lock before anything else is started.
    public static func check(directory: String) throws {
        guard FileIO.exists(directory) else { return }
        let lock = try DirectoryLock.acquire(directory: directory)
        lock.release()
    }

    /// The PID the holder of `directory`'s lock recorded, or nil when there is none to read.
    public static func holderPID(directory: String) -> Int32? {
        let path = directory + "/" + SegmentFormat.lockFileName
        guard let bytes = try? FileIO.readFile(path, bytesMax: 64) else { return nil }
        let digits = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int32(String(decoding: digits, as: UTF8.self))
    }
}
