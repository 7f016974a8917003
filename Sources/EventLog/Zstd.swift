import CZstd

/// The reason a zstd call failed, from `ZSTD_getErrorName`.
func zstdError(_ code: Int) -> String {
    String(cString: ZSTD_getErrorName(code))
}

/// Runs a one-shot zstd call that writes into a new array of at most `capacity` bytes. `call`
/// gets the destination and its capacity and returns zstd's result: the bytes written, or an
/// error code, reported as "`operation`: zstd's reason".
func zstdOutput(capacity: Int, operation: String, _ call: (UnsafeMutableRawPointer?, Int) -> Int) -> Result<
    [UInt8], FormatFailure
> {
    var failure: String?
    let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
        let result = call(buffer.baseAddress, capacity)
        if ZSTD_isError(result) != 0 {
            failure = zstdError(result)
            count = 0
        } else {
            count = result
        }
    }
    if let failure { return .failure(.init(reason: "\(operation): \(failure)")) }
    return .success(output)
}

/// A zstd streaming compressor flushed once per commit, so each commit decodes on its own while
/// compressing against the commits before it in the same zstd frame.
final class StreamCompressor {
    private let context: OpaquePointer

    init(level: Int) {
        guard let context = ZSTD_createCCtx() else { preconditionFailure("ZSTD_createCCtx returned NULL") }
        self.context = context
        let result = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level))
        precondition(ZSTD_isError(result) == 0, "zstd level \(level): \(zstdError(result))")
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    /// Drops the stream state: the next compressed bytes start a new zstd frame.
    func startNewFrame() {
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
    }

    /// The output capacity `compressFlush` needs for `plainBytes` of input.
    static func bound(plainBytes: Int) -> Int {
        ZSTD_compressBound(plainBytes) + 64
    }

    /// Compresses `plain` with ZSTD_e_flush into `output`; returns the bytes written.
    func compressFlush(_ plain: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Result<
        Int, FormatFailure
    > {
        var input = ZSTD_inBuffer(src: plain.baseAddress, size: plain.count, pos: 0)
        var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        while true {
            let remaining = ZSTD_compressStream2(context, &out, &input, ZSTD_e_flush)
            if ZSTD_isError(remaining) != 0 { return .failure(.init(reason: "zstd compress: \(zstdError(remaining))")) }
            if remaining == 0 && input.pos == input.size { return .success(out.pos) }
            if out.pos == out.size {
                return .failure(.init(reason: "zstd output buffer of \(output.count) bytes full"))
            }
        }
    }
}

/// One-shot compression of a dense block into an independent zstd frame.
final class BlockCompressor {
    private let context: OpaquePointer
    let level: Int

    init(level: Int) {
        guard let context = ZSTD_createCCtx() else { preconditionFailure("ZSTD_createCCtx returned NULL") }
        self.context = context
        self.level = level
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    func compress(_ plain: [UInt8]) -> Result<[UInt8], FormatFailure> {
        ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters)
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level))
        var windowLog: Int32 = 10
        while (1 << windowLog) < plain.count && windowLog < 27 { windowLog += 1 }
        ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, max(windowLog, 20))
        return zstdOutput(capacity: ZSTD_compressBound(plain.count), operation: "zstd compress") { output, capacity in
            plain.withUnsafeBytes { ZSTD_compress2(context, output, capacity, $0.baseAddress, $0.count) }
        }
    }
}

/// Decompresses commit frames (one zstd stream per run of commits) and dense blocks.
final class Decompressor {
    private let context: OpaquePointer
    /// True while the stream frame's earlier commits were decoded by this decompressor.
    private var inStream = false

    init() {
        guard let context = ZSTD_createDCtx() else { preconditionFailure("ZSTD_createDCtx returned NULL") }
        self.context = context
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// Forgets stream state (a new segment begins).
    func reset() {
        ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        inStream = false
    }

    /// Decodes one commit's payload, which continues the stream unless `startsFrame`.
    func decompressCommit(_ payload: [UInt8], plainBytes: Int, startsFrame: Bool) -> Result<[UInt8], FormatFailure> {
        if startsFrame {
            ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
            inStream = true
        } else if !inStream {
            return .failure(.init(reason: "commit continues a zstd frame whose start was not read"))
        }
        var failure: String?
        let plain = [UInt8](unsafeUninitializedCapacity: plainBytes) { buffer, count in
            count = 0
            payload.withUnsafeBytes { source in
                var input = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
                var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: plainBytes, pos: 0)
                while input.pos < input.size || out.pos < out.size {
                    let (inBefore, outBefore) = (input.pos, out.pos)
                    let result = ZSTD_decompressStream(context, &out, &input)
                    if ZSTD_isError(result) != 0 {
                        failure = "zstd decompress: \(zstdError(result))"
                        return
                    }
                    if input.pos == inBefore && out.pos == outBefore {
                        failure = "zstd stream decoded \(out.pos) of \(plainBytes) bytes"
                        return
                    }
                }
                count = out.pos
            }
        }
        if let failure {
            inStream = false
            return .failure(.init(reason: failure))
        }
        return .success(plain)
    }

    /// Decodes one dense block (an independent zstd frame).
    func decompressBlock(_ payload: [UInt8], plainBytes: Int) -> Result<[UInt8], FormatFailure> {
        inStream = false
        let result = zstdOutput(capacity: plainBytes, operation: "zstd decompress") { output, capacity in
            payload.withUnsafeBytes { ZSTD_decompressDCtx(context, output, capacity, $0.baseAddress, $0.count) }
        }
        if case .success(let plain) = result, plain.count != plainBytes {
            return .failure(.init(reason: "block decoded to \(plain.count) bytes, header says \(plainBytes)"))
        }
        return result
    }
}
