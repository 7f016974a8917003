import CZstd

/// One-shot zstd compression of a whole buffer into one independent zstd frame, for small
/// files kept beside the log (the registry's snapshots). The log's own records use the
/// streaming and block compressors of `Zstd.swift`.
public enum Zstd {
    /// A failed compression or decompression: zstd's reason, or a size that does not match.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// `input` as one zstd frame at `level` (`ZSTD_compress`).
    public static func compress(_ input: [UInt8], level: Int = 3) throws(Failure) -> [UInt8] {
        let result = zstdOutput(capacity: ZSTD_compressBound(input.count), operation: "zstd compression failed") {
            output, capacity in
            input.withUnsafeBytes { ZSTD_compress(output, capacity, $0.baseAddress, input.count, Int32(level)) }
        }
        return try unwrap(result)
    }

    /// Decompresses exactly `size` bytes (`ZSTD_decompress`); a frame that holds more or fewer
    /// bytes than `size` is an error, so `size` also bounds the memory a damaged input can take.
    public static func decompress(_ input: [UInt8], size: Int) throws(Failure) -> [UInt8] {
        let result = input.withUnsafeBytes { input in
            Result { () throws(Failure) in try decompress(input, size: size) }
        }
        return try result.get()
    }

    /// `decompress(_:size:)` of bytes in place (a snapshot's body within its file's bytes).
    public static func decompress(_ input: UnsafeRawBufferPointer, size: Int) throws(Failure) -> [UInt8] {
        let result = zstdOutput(capacity: size, operation: "zstd decompression failed") { output, capacity in
            ZSTD_decompress(output, capacity, input.baseAddress, input.count)
        }
        let output = try unwrap(result)
        guard output.count == size else {
            throw Failure(description: "zstd decompressed \(output.count) bytes, the header promised \(size)")
        }
        return output
    }

    private static func unwrap(_ result: Result<[UInt8], FormatFailure>) throws(Failure) -> [UInt8] {
        switch result {
        case .success(let bytes): return bytes
        case .failure(let failure): throw Failure(description: failure.reason)
        }
    }
}
