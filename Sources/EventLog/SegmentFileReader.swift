#if canImport(Glibc)
import Glibc
#endif

/// A read-only segment file with one sliding read buffer; works on files that are still growing.
final class SegmentFileReader {
    let path: String
    let fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var bufferFileOffset = 0
    private var bufferCount = 0
    static let readBytesMin = 1 << 20

    init(path: String) throws {
        self.path = path
        self.fd = try FileIO.openFile(path, flags: O_RDONLY, operation: "open segment")
        self.buffer = .allocate(byteCount: Self.readBytesMin, alignment: 16)
    }

    /// Opens `path`; nil when no file is there (not created yet, or removed by retention).
    static func openIfPresent(path: String) throws -> SegmentFileReader? {
        do {
            return try SegmentFileReader(path: path)
        } catch EventLogError.io(_, _, let errno) where errno == ENOENT {
            return nil
        }
    }

    deinit {
        buffer.deallocate()
        FileIO.closeFile(fd)
    }

    func size() throws -> Int {
        try FileIO.size(fd, path: path)
    }

    /// Loads `[offset, offset + count)` into the buffer; returns how many of those bytes exist (fewer at EOF).
    func load(offset: Int, count: Int) throws -> Int {
        if offset >= bufferFileOffset, offset + count <= bufferFileOffset + bufferCount {
            return count
        }
        if buffer.count < count {
            buffer.deallocate()
            buffer = .allocate(byteCount: max(count, Self.readBytesMin), alignment: 16)
        }
        bufferCount = try FileIO.read(fd, into: buffer, at: offset, path: path)
        bufferFileOffset = offset
        return min(bufferCount, count)
    }

    /// Forgets the loaded bytes, so the next `load` reads the file again.
    func discardBuffer() {
        bufferFileOffset = 0
        bufferCount = 0
    }

    /// Calls `body` with loaded bytes `[offset, offset + count)`; `load` must have returned `count`.
    func withBytes<T>(offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        precondition(
            offset >= bufferFileOffset && offset + count <= bufferFileOffset + bufferCount,
            "bytes \(offset)+\(count) not loaded (buffer \(bufferFileOffset)+\(bufferCount))")
        let start = offset - bufferFileOffset
        return try body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<(start + count)]))
    }

    /// Reads and checks the segment header; a failure names what is short or bad.
    func readHeader() throws -> Result<SegmentHeader, FormatFailure> {
        let available = try load(offset: 0, count: SegmentFormat.headerBytes)
        guard available == SegmentFormat.headerBytes else {
            return .failure(.init(reason: "header has \(available) of \(SegmentFormat.headerBytes) bytes"))
        }
        return withBytes(offset: 0, count: SegmentFormat.headerBytes) { SegmentHeader.decode($0) }
    }

    /// The header, checked; nil while the file holds fewer bytes than a header (a segment the
    /// writer has created and not yet written its header to, or a damaged one).
    func readHeaderIfWhole() throws -> Result<SegmentHeader, FormatFailure>? {
        guard try load(offset: 0, count: SegmentFormat.headerBytes) == SegmentFormat.headerBytes else { return nil }
        return withBytes(offset: 0, count: SegmentFormat.headerBytes) { SegmentHeader.decode($0) }
    }

    /// The seal frame ending the file, if the last 56 bytes are one.
    func readSeal() throws -> SealInfo? {
        let size = try size()
        let offset = size - SegmentFormat.sealFrameBytes
        guard offset >= SegmentFormat.headerBytes,
            try load(offset: offset, count: SegmentFormat.sealFrameBytes) == SegmentFormat.sealFrameBytes
        else { return nil }
        return withBytes(offset: offset, count: SegmentFormat.sealFrameBytes) { bytes -> SealInfo? in
            guard case .success(let header) = FrameHeader.decode(bytes), header.kind == .seal else { return nil }
            let payload = Array(bytes[SegmentFormat.frameHeaderBytes...])
            guard CRC32C.checksum(payload) == header.payloadChecksum else { return nil }
            return SealInfo(header: header, payload: payload)
        }
    }
}

/// One step of walking a segment's frames.
enum FrameStep {
    /// A whole frame whose header and (when read) payload checksums match.
    case frame(FrameHeader, payload: [UInt8])
    /// No byte after the last whole frame.
    case end
    /// The bytes end inside a frame (a write in progress, or a torn tail after a crash).
    case torn(reason: String)
    /// Whole bytes that fail a check.
    case damaged(reason: String)

    var isFrame: Bool {
        if case .frame = self { return true }
        return false
    }
}

/// Walks frames from `offset`, checking each header and payload checksum before anything uses it.
struct FrameWalker {
    let file: SegmentFileReader
    /// Offset of the next frame; advanced past each whole frame returned.
    var offset: Int = SegmentFormat.headerBytes

    init(file: SegmentFileReader) {
        self.file = file
    }

    /// The next frame; with `readPayload` false the payload is skipped (returned empty, unchecked).
    mutating func next(readPayload: Bool = true) throws -> FrameStep {
        let headerBytes = SegmentFormat.frameHeaderBytes
        let available = try file.load(offset: offset, count: headerBytes)
        if available == 0 { return .end }
        if available < headerBytes { return .torn(reason: "frame header has \(available) of \(headerBytes) bytes") }
        let decoded = file.withBytes(offset: offset, count: headerBytes) { FrameHeader.decode($0) }
        let header: FrameHeader
        switch decoded {
        case .failure(let failure): return .damaged(reason: failure.reason)
        case .success(let value): header = value
        }
        let payloadOffset = offset + headerBytes
        if !readPayload {
            let size = try file.size()
            if payloadOffset + header.payloadBytes > size {
                return .torn(reason: "payload has \(size - payloadOffset) of \(header.payloadBytes) bytes")
            }
            offset = payloadOffset + header.payloadBytes
            return .frame(header, payload: [])
        }
        let loaded = try file.load(offset: payloadOffset, count: header.payloadBytes)
        if loaded < header.payloadBytes {
            return .torn(reason: "payload has \(loaded) of \(header.payloadBytes) bytes")
        }
        let payload = file.withBytes(offset: payloadOffset, count: header.payloadBytes) { Array($0) }
        let checksum = CRC32C.checksum(payload)
        guard checksum == header.payloadChecksum else {
            return .damaged(reason: "payload checksum \(hex(checksum)) != stored \(hex(header.payloadChecksum))")
        }
        offset = payloadOffset + header.payloadBytes
        return .frame(header, payload: payload)
    }
}
