#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX wrappers that retry EINTR and throw `EventLogError.io` naming the path. The public
/// ones (directories, listing, whole-file read, atomic durable write) serve the registry's
/// snapshots, so the project has one implementation of each.
public enum FileIO {
    static func openFile(_ path: String, flags: Int32, operation: String) throws -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, 0o644)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw EventLogError.io(operation: operation, path: path, errno: errno)
        }
    }

    static func closeFile(_ fd: Int32) {
        _ = close(fd)
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
    static func read(
        _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String
    ) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let count = pread(fd, base + done, buffer.count - done, off_t(offset + done))
            if count > 0 {
                done += count
            } else if count == 0 {
                break
            } else if errno != EINTR {
                throw EventLogError.io(operation: "read", path: path, errno: errno)
            }
        }
        return done
    }

    /// Writes all of `bytes` at `offset`.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let count = pwrite(fd, base + done, bytes.count - done, off_t(offset + done))
            if count > 0 {
                done += count
            } else if count == 0 {
                throw EventLogError.io(operation: "write", path: path, errno: EIO)
            } else if errno != EINTR {
                throw EventLogError.io(operation: "write", path: path, errno: errno)
            }
        }
    }

    static func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws {
        try bytes.withUnsafeBytes { try write(fd, $0, at: offset, path: path) }
    }

    /// Makes the file's data durable (fdatasync on Linux).
    static func syncData(_ fd: Int32, path: String) throws {
        #if os(Linux)
        let result = fdatasync(fd)
        #else
        let result = fsync(fd)
        #endif
        if result != 0 { throw EventLogError.io(operation: "fdatasync", path: path, errno: errno) }
    }

    /// Makes a directory's entries (creates, renames, unlinks) durable.
    static func syncDirectory(_ path: String) throws {
        let fd = try openFile(path, flags: O_RDONLY | O_DIRECTORY, operation: "open directory")
        defer { closeFile(fd) }
        if fsync(fd) != 0 { throw EventLogError.io(operation: "fsync directory", path: path, errno: errno) }
    }

    static func truncate(_ fd: Int32, to size: Int, path: String) throws {
        if ftruncate(fd, off_t(size)) != 0 {
            throw EventLogError.io(operation: "truncate to \(size) bytes", path: path, errno: errno)
        }
    }

    static func size(_ fd: Int32, path: String) throws -> Int {
        var info = stat()
        if fstat(fd, &info) != 0 { throw EventLogError.io(operation: "stat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    /// True when something exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func renameFile(_ from: String, to: String) throws {
        if rename(from, to) != 0 {
            throw EventLogError.io(operation: "rename to \(to)", path: from, errno: errno)
        }
    }

    /// Gives the file at `from` a second name `to` (a hard link: both name the same bytes).
    static func linkFile(_ from: String, to: String) throws {
        if link(from, to) != 0 {
            throw EventLogError.io(operation: "link to \(to)", path: from, errno: errno)
        }
    }

    /// Removes the file at `path`; a file already gone is fine.
    public static func unlinkFile(_ path: String) throws {
        if unlink(path) != 0, errno != ENOENT {
            throw EventLogError.io(operation: "unlink", path: path, errno: errno)
        }
    }

    /// Creates `path` and its missing parents.
    public static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0, errno != EEXIST {
                throw EventLogError.io(operation: "create directory", path: current, errno: errno)
            }
        }
    }

    /// The names in a directory, without `.` and `..`, in no particular order.
    public static func list(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            throw EventLogError.io(operation: "list directory", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Copies `count` bytes from `offset` of `fd` into a new file at `path`, synced.
    static func copyTail(_ fd: Int32, from offset: Int, count: Int, source: String, to path: String) throws {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try bytes.withUnsafeMutableBytes { try self.read(fd, into: $0, at: offset, path: source) }
        let out = try openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC, operation: "create")
        defer { closeFile(out) }
        try write(out, Array(bytes[0..<read]), at: 0, path: path)
        try syncData(out, path: path)
    }
}
