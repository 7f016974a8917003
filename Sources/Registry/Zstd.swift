import CZstd

/// One-shot zstd for snapshots (the log compresses its own records).
enum Zstd {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func compress(_ input: [UInt8], level: Int32 = 3) throws(Failure) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_compress(out.baseAddress, bound, inp.baseAddress, input.count, level)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw Failure(description: "zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses exactly `size` bytes; anything else is an error.
    static func decompress(_ input: [UInt8], size: Int) throws(Failure) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_decompress(out.baseAddress, size, inp.baseAddress, input.count)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw Failure(description: "zstd decompression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        guard written == size else {
            throw Failure(description: "zstd decompressed \(written) bytes, the header promised \(size)")
        }
        return output
    }
}
