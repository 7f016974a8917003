/// The tally frame (kind 4) of a version-2 dense segment: its records counted by slot, stored
/// uncompressed at a fixed place right before the seal frame (docs/FORMAT.md "Tally frame").
enum TallyFrame {
    /// scheme (4), reserved (4), 16 counts (8 each).
    static let payloadBytes = 8 + RecordTally.slotCount * 8
    static let frameBytes = SegmentFormat.frameHeaderBytes + payloadBytes

    /// Where the tally frame starts in a version-2 segment of `fileBytes` bytes.
    static func offset(fileBytes: Int) -> Int {
        fileBytes - SegmentFormat.sealFrameBytes - frameBytes
    }

    /// The whole 176-byte frame; `lastSequence` and `lastTimestampMicroseconds` are the segment's.
    static func encoded(_ tally: SegmentTally, lastSequence: UInt64, lastTimestampMicroseconds: Int64) -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(payloadBytes)
        payload.appendLittleEndian(tally.scheme)
        payload.appendLittleEndian(UInt32(0))
        for count in tally.counts { payload.appendLittleEndian(count) }
        assert(payload.count == payloadBytes)
        let header = FrameHeader(
            kind: .tally, startsZstdFrame: false, payloadBytes: payloadBytes, plainBytes: payloadBytes,
            recordCount: 0, firstSequence: lastSequence, timestampMicroseconds: lastTimestampMicroseconds,
            payloadChecksum: CRC32C.checksum(payload))
        var bytes = [UInt8](repeating: 0, count: SegmentFormat.frameHeaderBytes)
        header.store(into: &bytes, at: 0)
        return bytes + payload
    }

    /// The counts of a payload whose checksum matched; fails on a reserved field other than 0.
    static func decode(_ payload: UnsafeRawBufferPointer) -> Result<SegmentTally, FormatFailure> {
        precondition(payload.count == payloadBytes, "tally payload of \(payload.count) bytes")
        let reserved = payload.loadLittleEndian(at: 4, as: UInt32.self)
        guard reserved == 0 else { return .failure(.init(reason: "tally frame's reserved field is \(reserved)")) }
        let counts = (0..<RecordTally.slotCount).map { payload.loadLittleEndian(at: 8 + $0 * 8, as: UInt64.self) }
        return .success(SegmentTally(scheme: payload.loadLittleEndian(at: 0, as: UInt32.self), counts: counts))
    }

    /// Checks a tally frame against the segment it closes: it names the segment's last sequence
    /// and time, and its counts sum to the segment's records (a sum that overflows disagrees).
    static func check(
        _ frame: FrameHeader, _ tally: SegmentTally, lastSequence: UInt64, lastTimestampMicroseconds: Int64,
        records: UInt64
    ) -> FormatFailure? {
        guard frame.firstSequence == lastSequence else {
            return .init(
                reason: "tally frame names last sequence \(frame.firstSequence), the segment's is \(lastSequence)")
        }
        guard frame.timestampMicroseconds == lastTimestampMicroseconds else {
            return .init(
                reason: "tally frame's time \(frame.timestampMicroseconds) is not the segment's last "
                    + "\(lastTimestampMicroseconds)")
        }
        var sum: UInt64 = 0
        for count in tally.counts {
            let (next, overflow) = sum.addingReportingOverflow(count)
            guard !overflow else { return .init(reason: "tally counts overflow 64 bits") }
            sum = next
        }
        guard sum == records else {
            return .init(reason: "tally counts sum to \(sum), the segment holds \(records) records")
        }
        return nil
    }
}

extension SegmentFileReader {
    /// The tally of a sealed version-2 segment, read at its fixed offset before the seal and
    /// checked (frame header and payload checksums, size, place, sum); nil for any other segment.
    /// A failure names the offset of the tally frame and why.
    func readTally(header: SegmentHeader) throws -> Result<SegmentTally, ScanProblem>? {
        guard header.hasTally else { return nil }
        let size = try size()
        let offset = TallyFrame.offset(fileBytes: size)
        func failure(_ reason: String) -> Result<SegmentTally, ScanProblem> {
            .failure(ScanProblem(offset: max(offset, 0), sequence: header.lastSequence, reason: reason, isTorn: false))
        }
        guard offset >= SegmentFormat.headerBytes else {
            return failure("a version-2 segment of \(size) bytes has no room for a tally frame and a seal")
        }
        guard try load(offset: offset, count: TallyFrame.frameBytes) == TallyFrame.frameBytes else {
            return failure("tally frame is cut off")
        }
        return withBytes(offset: offset, count: TallyFrame.frameBytes) { bytes in
            let frame: FrameHeader
            switch FrameHeader.decode(UnsafeRawBufferPointer(rebasing: bytes[0..<SegmentFormat.frameHeaderBytes])) {
            case .failure(let failed): return failure("tally frame: " + failed.reason)
            case .success(let value): frame = value
            }
            guard frame.kind == .tally else {
                return failure("a version-2 segment has a \(frame.kind) frame where its tally frame belongs")
            }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[SegmentFormat.frameHeaderBytes...])
            let checksum = CRC32C.checksum(payload)
            guard checksum == frame.payloadChecksum else {
                return failure("tally payload checksum \(hex(checksum)) != stored \(hex(frame.payloadChecksum))")
            }
            let tally: SegmentTally
            switch TallyFrame.decode(payload) {
            case .failure(let failed): return failure(failed.reason)
            case .success(let value): tally = value
            }
            if let failed = TallyFrame.check(
                frame, tally, lastSequence: header.lastSequence,
                lastTimestampMicroseconds: header.lastTimestampMicroseconds,
                records: header.lastSequence &- header.firstSequence &+ 1)
            {
                return failure(failed.reason)
            }
            return .success(tally)
        }
    }
}
