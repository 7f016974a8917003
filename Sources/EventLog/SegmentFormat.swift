/// Byte layout constants of the on-disk format (docs/FORMAT.md is the prose version).
enum SegmentFormat {
    /// "TRLOGSEG": first eight bytes of every segment.
    static let magic: [UInt8] = Array("TRLOGSEG".utf8)
    /// Every stream-form segment and a dense one without a tally frame.
    static let versionPlain: UInt16 = 1
    /// A dense segment whose seal frame follows a tally frame.
    static let versionTallied: UInt16 = 2
    static let headerBytes = 64
    static let frameHeaderBytes = 40
    /// "LF": first two bytes of every frame.
    static let frameMagic0: UInt8 = 0x4C
    static let frameMagic1: UInt8 = 0x46
    /// No frame's stored or decompressed payload may exceed this (a reader checks before allocating).
    static let framePayloadBytesMax = 64 << 20
    /// A seal frame's payload: first timestamp (8) and commit count (8).
    static let sealPayloadBytes = 16
    static let sealFrameBytes = frameHeaderBytes + sealPayloadBytes
    static let segmentSuffix = ".seg"
    static let lockFileName = "LOCK"

    /// `00000000000000000001.seg` for first sequence 1.
    static func fileName(firstSequence: UInt64) -> String {
        let digits = String(firstSequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + segmentSuffix
    }

    /// The first sequence a segment file name declares, or nil for any other name.
    static func firstSequence(fileName: String) -> UInt64? {
        guard fileName.count == 20 + segmentSuffix.count, fileName.hasSuffix(segmentSuffix) else { return nil }
        let digits = fileName.prefix(20)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }
}

/// How a segment's frames are laid out.
enum SegmentForm: UInt8, Sendable {
    /// Written live: one commit frame per group commit, one zstd stream flushed per commit.
    case stream = 1
    /// Rewritten after sealing: dense blocks, each an independent zstd frame.
    case dense = 2
}

/// The fixed 64-byte header at offset 0 of a segment.
struct SegmentHeader: Equatable, Sendable {
    var form: SegmentForm
    var firstSequence: UInt64
    var createdMicroseconds: Int64
    /// Filled in the dense form only (0 in the stream form, whose seal frame carries them).
    var lastSequence: UInt64 = 0
    var firstTimestampMicroseconds: Int64 = 0
    var lastTimestampMicroseconds: Int64 = 0
    var commitCount: UInt32 = 0
    /// A dense segment with a tally frame before its seal (format version 2).
    var hasTally = false

    var version: UInt16 { hasTally ? SegmentFormat.versionTallied : SegmentFormat.versionPlain }

    func encoded() -> [UInt8] {
        precondition(!hasTally || form == .dense, "a tally in a \(form) segment")
        var bytes = SegmentFormat.magic
        bytes.reserveCapacity(SegmentFormat.headerBytes)
        bytes.appendLittleEndian(version)
        bytes.append(form.rawValue)
        bytes.append(0)
        bytes.appendLittleEndian(UInt32(SegmentFormat.headerBytes))
        bytes.appendLittleEndian(firstSequence)
        bytes.appendLittleEndian(createdMicroseconds)
        bytes.appendLittleEndian(lastSequence)
        bytes.appendLittleEndian(firstTimestampMicroseconds)
        bytes.appendLittleEndian(lastTimestampMicroseconds)
        bytes.appendLittleEndian(commitCount)
        bytes.appendLittleEndian(CRC32C.checksum(bytes))
        assert(bytes.count == SegmentFormat.headerBytes)
        return bytes
    }

    /// Decodes and checks a header; the error string says which check failed.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<SegmentHeader, FormatFailure> {
        guard bytes.count >= SegmentFormat.headerBytes else {
            return .failure(.init(reason: "header has \(bytes.count) of \(SegmentFormat.headerBytes) bytes"))
        }
        guard Array(bytes[0..<8]) == SegmentFormat.magic else {
            return .failure(.init(reason: "bad segment magic"))
        }
        let stored = bytes.loadLittleEndian(at: 60, as: UInt32.self)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60]))
        guard stored == computed else {
            return .failure(.init(reason: "header checksum \(hex(stored)) != computed \(hex(computed))"))
        }
        let version = bytes.loadLittleEndian(at: 8, as: UInt16.self)
        guard version == SegmentFormat.versionPlain || version == SegmentFormat.versionTallied else {
            return .failure(.init(reason: "unsupported format version \(version)"))
        }
        guard let form = SegmentForm(rawValue: bytes[10]) else {
            return .failure(.init(reason: "unknown segment form \(bytes[10])"))
        }
        guard version == SegmentFormat.versionPlain || form == .dense else {
            return .failure(.init(reason: "format version \(version) in a \(form)-form segment"))
        }
        guard bytes.loadLittleEndian(at: 12, as: UInt32.self) == SegmentFormat.headerBytes else {
            return .failure(.init(reason: "unexpected header size"))
        }
        return .success(
            SegmentHeader(
                form: form,
                firstSequence: bytes.loadLittleEndian(at: 16, as: UInt64.self),
                createdMicroseconds: bytes.loadLittleEndian(at: 24, as: Int64.self),
                lastSequence: bytes.loadLittleEndian(at: 32, as: UInt64.self),
                firstTimestampMicroseconds: bytes.loadLittleEndian(at: 40, as: Int64.self),
                lastTimestampMicroseconds: bytes.loadLittleEndian(at: 48, as: Int64.self),
                commitCount: bytes.loadLittleEndian(at: 56, as: UInt32.self),
                hasTally: version == SegmentFormat.versionTallied
            ))
    }
}

/// Why a header or frame failed its checks.
struct FormatFailure: Error, Sendable {
    var reason: String
}

/// What a frame holds.
enum FrameKind: UInt8, Sendable {
    /// One group commit: records of one zstd stream flush.
    case commit = 1
    /// Many commits of a sealed segment: an independent zstd frame.
    case denseBlock = 2
    /// The end of a sealed segment: last sequence and timestamps, uncompressed.
    case seal = 3
    /// A version-2 dense segment's records counted by slot, right before the seal, uncompressed.
    case tally = 4
}

/// The fixed 40-byte header in front of every frame's payload.
struct FrameHeader: Equatable, Sendable {
    static let flagStartsZstdFrame: UInt8 = 1
    /// A dense block whose commit table is stored by column (all counts, then all time deltas);
    /// clear in blocks of the first builds, which interleave them per commit.
    static let flagColumnarTable: UInt8 = 2
    static let knownFlags: UInt8 = flagStartsZstdFrame | flagColumnarTable

    var kind: FrameKind
    /// A commit whose payload begins a new zstd frame (the reader resets its decompressor).
    var startsZstdFrame: Bool
    /// A dense block's commit table is stored by column.
    var columnarTable: Bool = false
    var payloadBytes: Int
    var plainBytes: Int
    var recordCount: Int
    /// First record's sequence; a seal frame stores the segment's last sequence here.
    var firstSequence: UInt64
    /// The commit time; a dense block stores its first commit's; a seal frame the segment's last.
    var timestampMicroseconds: Int64
    var payloadChecksum: UInt32

    /// Writes the header into `bytes[offset..<offset + 40]`.
    func store(into bytes: inout [UInt8], at offset: Int) {
        bytes[offset] = SegmentFormat.frameMagic0
        bytes[offset + 1] = SegmentFormat.frameMagic1
        bytes[offset + 2] = kind.rawValue
        bytes[offset + 3] =
            (startsZstdFrame ? Self.flagStartsZstdFrame : 0) | (columnarTable ? Self.flagColumnarTable : 0)
        bytes.storeLittleEndian(UInt32(payloadBytes), at: offset + 4)
        bytes.storeLittleEndian(UInt32(plainBytes), at: offset + 8)
        bytes.storeLittleEndian(UInt32(recordCount), at: offset + 12)
        bytes.storeLittleEndian(firstSequence, at: offset + 16)
        bytes.storeLittleEndian(timestampMicroseconds, at: offset + 24)
        bytes.storeLittleEndian(payloadChecksum, at: offset + 32)
        let checksum = bytes.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + 36)]))
        }
        bytes.storeLittleEndian(checksum, at: offset + 36)
    }

    /// Decodes and checks a frame header (not its payload).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<FrameHeader, FormatFailure> {
        precondition(bytes.count >= SegmentFormat.frameHeaderBytes, "frame header needs 40 bytes, got \(bytes.count)")
        guard bytes[0] == SegmentFormat.frameMagic0, bytes[1] == SegmentFormat.frameMagic1 else {
            return .failure(.init(reason: "bad frame magic \(hex(UInt32(bytes[0]) << 8 | UInt32(bytes[1])))"))
        }
        let stored = bytes.loadLittleEndian(at: 36, as: UInt32.self)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<36]))
        guard stored == computed else {
            return .failure(.init(reason: "frame header checksum \(hex(stored)) != computed \(hex(computed))"))
        }
        guard let kind = FrameKind(rawValue: bytes[2]) else {
            return .failure(.init(reason: "unknown frame kind \(bytes[2])"))
        }
        guard bytes[3] & ~knownFlags == 0 else {
            return .failure(.init(reason: "unknown frame flags \(bytes[3])"))
        }
        let header = FrameHeader(
            kind: kind,
            startsZstdFrame: bytes[3] & flagStartsZstdFrame != 0,
            columnarTable: bytes[3] & flagColumnarTable != 0,
            payloadBytes: Int(bytes.loadLittleEndian(at: 4, as: UInt32.self)),
            plainBytes: Int(bytes.loadLittleEndian(at: 8, as: UInt32.self)),
            recordCount: Int(bytes.loadLittleEndian(at: 12, as: UInt32.self)),
            firstSequence: bytes.loadLittleEndian(at: 16, as: UInt64.self),
            timestampMicroseconds: bytes.loadLittleEndian(at: 24, as: Int64.self),
            payloadChecksum: bytes.loadLittleEndian(at: 32, as: UInt32.self)
        )
        guard header.payloadBytes <= SegmentFormat.framePayloadBytesMax,
            header.plainBytes <= SegmentFormat.framePayloadBytesMax
        else {
            return .failure(.init(reason: "frame sizes \(header.payloadBytes)/\(header.plainBytes) exceed the limit"))
        }
        if kind == .seal, header.payloadBytes != SegmentFormat.sealPayloadBytes {
            return .failure(.init(reason: "seal frame with \(header.payloadBytes) payload bytes"))
        }
        if kind == .tally,
            header.payloadBytes != TallyFrame.payloadBytes || header.plainBytes != TallyFrame.payloadBytes
                || header.recordCount != 0 || bytes[3] != 0
        {
            return .failure(
                .init(
                    reason: "tally frame with \(header.payloadBytes)/\(header.plainBytes) payload bytes and "
                        + "\(header.recordCount) records, flags \(bytes[3]) "
                        + "(expected \(TallyFrame.payloadBytes)/\(TallyFrame.payloadBytes), 0, 0)"))
        }
        return .success(header)
    }
}

/// What a seal frame's payload holds beside its header's last sequence and timestamp.
struct SealInfo: Equatable, Sendable {
    var lastSequence: UInt64
    var firstTimestampMicroseconds: Int64
    var lastTimestampMicroseconds: Int64
    var commitCount: UInt64

    /// The whole 56-byte seal frame.
    func encodedFrame() -> [UInt8] {
        var payload: [UInt8] = []
        payload.appendLittleEndian(firstTimestampMicroseconds)
        payload.appendLittleEndian(commitCount)
        let header = FrameHeader(
            kind: .seal, startsZstdFrame: false, payloadBytes: payload.count, plainBytes: payload.count,
            recordCount: 0, firstSequence: lastSequence, timestampMicroseconds: lastTimestampMicroseconds,
            payloadChecksum: CRC32C.checksum(payload))
        var bytes = [UInt8](repeating: 0, count: SegmentFormat.frameHeaderBytes)
        header.store(into: &bytes, at: 0)
        return bytes + payload
    }

    init(lastSequence: UInt64, firstTimestampMicroseconds: Int64, lastTimestampMicroseconds: Int64, commitCount: UInt64)
    {
        self.lastSequence = lastSequence
        self.firstTimestampMicroseconds = firstTimestampMicroseconds
        self.lastTimestampMicroseconds = lastTimestampMicroseconds
        self.commitCount = commitCount
    }

    init(header: FrameHeader, payload: [UInt8]) {
        precondition(payload.count == SegmentFormat.sealPayloadBytes, "seal payload of \(payload.count) bytes")
        let (first, commits) = payload.withUnsafeBytes {
            ($0.loadLittleEndian(at: 0, as: Int64.self), $0.loadLittleEndian(at: 8, as: UInt64.self))
        }
        self.init(
            lastSequence: header.firstSequence, firstTimestampMicroseconds: first,
            lastTimestampMicroseconds: header.timestampMicroseconds, commitCount: commits)
    }
}

func hex(_ value: UInt32) -> String {
    "0x" + String(value, radix: 16)
}
