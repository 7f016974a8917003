#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import CZstd

/// Reads the projection bytes of one snapshot after another, as `SnapshotStore.projectionBytes`
/// does, into memory kept between reads: the file into one buffer, the body decompressed by one
/// zstd context into an array the caller hands back. `tunnel-replay verify` reads 500 snapshots
/// of 10 MB each on the 50,000,000-event bench log: fresh buffers were page-faulted in anew each
/// time (3.6% of its cycles), and each read built and freed a zstd context. One reader per thread.
public final class SnapshotBodyReader {
    private var file: [UInt8] = []
    private let context: OpaquePointer?

    public init() {
        context = ZSTD_createDCtx()
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// Puts the projection bytes of the snapshot at `sequence` in `store` into `bytes` (its
    /// storage reused when no one else holds it) and returns true; false, with `bytes` unspecified,
    /// when anything is amiss: then `store.projectionBytes(sequence:)` tells what.
    public func read(_ store: SnapshotStore, sequence: UInt64, into bytes: inout [UInt8]) -> Bool {
        let path = store.path(for: sequence)
        guard readFile(path), let context,
            let header = try? store.parseHeader(file, fileBytes: file.count, file: path, sequence: sequence)
        else { return false }
        let size = header.rawBytes
        if bytes.count > size {
            bytes.removeLast(bytes.count - size)
        } else if bytes.count < size {
            bytes.append(contentsOf: repeatElement(0, count: size - bytes.count))
        }
        return file.withUnsafeBytes { stored in
            let body = UnsafeRawBufferPointer(rebasing: stored[SnapshotStore.headerBytes...])
            guard SnapshotChecksum.checksum(body) == header.bodyChecksum else { return false }
            let written = bytes.withUnsafeMutableBytes { output in
                ZSTD_decompressDCtx(context, output.baseAddress, size, body.baseAddress, body.count)
            }
            return ZSTD_isError(written) == 0 && written == size
        }
    }

    /// Reads the file at `path` into `file`; false when it cannot be read whole or is too large.
    private func readFile(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_size >= 0, status.st_size <= SnapshotStore.rawBytesMax else {
            return false
        }
        let size = Int(status.st_size)
        if file.count > size {
            file.removeLast(file.count - size)
        } else if file.count < size {
            file.append(contentsOf: repeatElement(0, count: size - file.count))
        }
        return file.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return size == 0 }
            var done = 0
            while done < size {
                let count = pread(fd, base + done, size - done, off_t(done))
                if count > 0 {
                    done += count
                } else if count == 0 || errno != EINTR {
                    return false
                }
            }
            return true
        }
    }
}
