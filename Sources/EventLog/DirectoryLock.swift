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

    static func acquire(directory: String) throws -> DirectoryLock {
        let path = directory + "/" + SegmentFormat.lockFileName
        let fd = try FileIO.openFile(path, flags: O_RDWR | O_CREAT, operation: "open lock file")
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
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
