import CZstd

extension Zstd {
    /// One-shot decompression of frame after frame through one zstd context, into arrays whose
    /// storage is reused: a reader of many snapshots (`tunnel-replay verify`, 500 of 10 MB on the
    /// bench log) neither builds a context nor page-faults a fresh buffer for each. Used by one
    /// thread at a time.
    public final class ReusableDecoder: @unchecked Sendable {
        private let context: OpaquePointer

        public init() {
            guard let context = ZSTD_createDCtx() else { preconditionFailure("ZSTD_createDCtx returned NULL") }
            self.context = context
        }

        deinit {
            ZSTD_freeDCtx(context)
        }

        /// Decompresses `input`, one frame of exactly `size` bytes, into `output` (resized to
        /// `size`, its storage kept when no one else holds it); throws when zstd fails or the frame
        /// holds another size, leaving `output` unspecified.
        public func decompress(_ input: UnsafeRawBufferPointer, size: Int, into output: inout [UInt8]) throws(Failure) {
            if output.count > size {
                output.removeLast(output.count - size)
            } else if output.count < size {
                // Room for later frames, which tend to grow, so the array is not outgrown at once.
                if output.capacity < size { output.reserveCapacity(size + size / 4) }
                output.append(contentsOf: repeatElement(0, count: size - output.count))
            }
            let written = output.withUnsafeMutableBytes { buffer in
                ZSTD_decompressDCtx(context, buffer.baseAddress, size, input.baseAddress, input.count)
            }
            if ZSTD_isError(written) != 0 {
                throw Failure(description: "zstd decompression failed: \(zstdError(written))")
            }
            guard written == size else {
                throw Failure(description: "zstd decompressed \(written) bytes, the header promised \(size)")
            }
        }
    }
}
