#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Whole-file helpers for small files kept beside the log (the registry's snapshots): read a
// file or its first bytes, and replace a file atomically and durably.
extension FileIO {
    /// The size in bytes of the file at `path`.
    public static func fileSize(_ path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw EventLogError.io(operation: "stat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    /// The first `count` bytes of the file (fewer when it is shorter).
    public static func readPrefix(_ path: String, count: Int) throws -> [UInt8] {
        let fd = try openFile(path, flags: O_RDONLY, operation: "open")
        defer { closeFile(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try bytes.withUnsafeMutableBytes { try self.read(fd, into: $0, at: 0, path: path) }
        return Array(bytes.prefix(read))
    }

    /// The whole file; throws when it is larger than `bytesMax` bytes, so a damaged or foreign
    /// file cannot make the caller allocate without bound.
    public static func readFile(_ path: String, bytesMax: Int) throws -> [UInt8] {
        let fd = try openFile(path, flags: O_RDONLY, operation: "open")
        defer { closeFile(fd) }
        let fileBytes = try size(fd, path: path)
        guard fileBytes <= bytesMax else {
            throw EventLogError.io(operation: "read (file larger than \(bytesMax) bytes)", path: path, errno: EFBIG)
        }
        var bytes = [UInt8](repeating: 0, count: fileBytes)
        let read = try bytes.withUnsafeMutableBytes { try self.read(fd, into: $0, at: 0, path: path) }
        guard read == fileBytes else {
            throw EventLogError.io(operation: "read (file shrank to \(read) bytes)", path: path, errno: EIO)
        }
        return bytes
    }

    /// Replaces `path` with `bytes` atomically and durably: writes `temporaryPath` (in the same
    /// directory), fsyncs it, renames it over `path` and fsyncs `directory`. A crash leaves the
    /// old file or the new one, never a partial one; on failure the temporary file is removed.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, temporaryPath: String, directory: String)
        throws
    {
        let fd = try openFile(temporaryPath, flags: O_WRONLY | O_CREAT | O_TRUNC, operation: "create")
        do {
            try write(fd, bytes, at: 0, path: temporaryPath)
            if fsync(fd) != 0 { throw EventLogError.io(operation: "fsync", path: temporaryPath, errno: errno) }
            closeFile(fd)
        } catch {
            closeFile(fd)
            try? unlinkFile(temporaryPath)
            throw error
        }
        do {
            try renameFile(temporaryPath, to: path)
        } catch {
            try? unlinkFile(temporaryPath)
            throw error
        }
        try syncDirectory(directory)
    }
}
