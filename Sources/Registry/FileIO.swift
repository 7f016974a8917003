#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed file operation: what, on which path, and errno.
struct FileIOError: Error, CustomStringConvertible {
    var operation: String
    var path: String
    var errno: Int32

    var description: String {
        "\(operation) failed on \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// The few POSIX calls snapshots need: whole-file read, durable write, rename, listing.
enum FileIO {
    static func createDirectory(_ path: String) throws(FileIOError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw FileIOError(operation: "mkdir", path: prefix, errno: errno)
            }
        }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func listDirectory(_ path: String) throws(FileIOError) -> [String] {
        guard let directory = opendir(path) else {
            throw FileIOError(operation: "opendir", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func fileSize(_ path: String) throws(FileIOError) -> Int {
        var status = stat()
        guard stat(path, &status) == 0 else { throw FileIOError(operation: "stat", path: path, errno: errno) }
        return Int(status.st_size)
    }

    /// The first `count` bytes of the file (fewer when it is shorter).
    static func readPrefix(_ path: String, count: Int) throws(FileIOError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress! + done, count - done, off_t(done))
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw FileIOError(operation: "read", path: path, errno: errno) }
            if got == 0 { break }
            done += got
        }
        return Array(bytes.prefix(done))
    }

    static func readFile(_ path: String, bytesMax: Int) throws(FileIOError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FileIOError(operation: "fstat", path: path, errno: errno) }
        let size = Int(status.st_size)
        guard size <= bytesMax else {
            throw FileIOError(operation: "read (file larger than \(bytesMax) bytes)", path: path, errno: EFBIG)
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + done, size - done) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw FileIOError(operation: "read", path: path, errno: count == 0 ? EIO : errno) }
            done += count
        }
        return bytes
    }

    /// Writes `bytes` to `path` atomically and durably: a temporary file, fsync, rename,
    /// fsync of the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, temporaryPath: String, directory: String)
        throws(FileIOError)
    {
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileIOError(operation: "open", path: temporaryPath, errno: errno) }
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, bytes.count - done) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let code = errno
                close(descriptor)
                unlink(temporaryPath)
                throw FileIOError(operation: "write", path: temporaryPath, errno: code)
            }
            done += count
        }
        guard fsync(descriptor) == 0 else {
            let code = errno
            close(descriptor)
            unlink(temporaryPath)
            throw FileIOError(operation: "fsync", path: temporaryPath, errno: code)
        }
        close(descriptor)
        guard rename(temporaryPath, path) == 0 else {
            let code = errno
            unlink(temporaryPath)
            throw FileIOError(operation: "rename", path: path, errno: code)
        }
        try syncDirectory(directory)
    }

    static func syncDirectory(_ path: String) throws(FileIOError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw FileIOError(operation: "fsync", path: path, errno: errno) }
    }

    static func remove(_ path: String) throws(FileIOError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw FileIOError(operation: "unlink", path: path, errno: errno)
        }
    }

    /// Wall-clock microseconds since the Unix epoch.
    static func wallClockMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
    }
}
