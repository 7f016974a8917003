import Testing

@testable import EventLog

/// The byte-level building blocks: checksum, varints, headers.
@Suite struct FormatTests {
    /// CRC32C matches the published check value and continues across split input.
    @Test func crc32cCheckValue() {
        let input = Array("123456789".utf8)
        #expect(CRC32C.checksum(input) == 0xE306_9283)
        let long = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = CRC32C.checksum(long)
        let split = CRC32C.checksum(Array(long[333...]), continuing: CRC32C.checksum(Array(long[..<333])))
        #expect(whole == split)
    }

    /// The crc32 instruction's CRC equals the tables' on every length up to 300 at each start
    /// within a word, from no CRC and continued from another (the instruction is on this CI's
    /// processors; where it is missing both sides are the tables).
    @Test func crc32cInstructionEqualsTheTables() {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.tableChecksum($0) } == 0xE306_9283)
        var state: UInt64 = 17
        let bytes = (0..<320).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        bytes.withUnsafeBytes { all in
            for start in 0..<8 {
                for length in 0...300 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<start + length])
                    let initial = UInt32(truncatingIfNeeded: start &* 2_654_435_761 &+ length)
                    #expect(CRC32C.checksum(slice) == CRC32C.tableChecksum(slice), "start \(start) length \(length)")
                    #expect(
                        CRC32C.checksum(slice, continuing: initial) == CRC32C.tableChecksum(slice, continuing: initial),
                        "start \(start) length \(length), continued")
                }
            }
        }
    }

    /// Varints round-trip at every width and reject truncated input.
    @Test(arguments: [UInt64(0), 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max])
    func varintRoundTrip(value: UInt64) {
        var bytes: [UInt8] = []
        bytes.appendVarint(value)
        #expect(bytes.count == Varint.size(value))
        bytes.withUnsafeBytes { raw in
            var offset = 0
            #expect(Varint.read(raw, &offset) == value)
            #expect(offset == bytes.count)
            var short = 0
            let truncated = UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 1)])
            #expect(Varint.read(truncated, &short) == nil || bytes.count == 1)
        }
    }

    /// A segment header and a frame header decode to what was encoded; any flipped byte is caught.
    @Test func headersRoundTripAndDetectFlips() throws {
        let header = SegmentHeader(
            form: .dense, firstSequence: 42, createdMicroseconds: 7, lastSequence: 99,
            firstTimestampMicroseconds: 8, lastTimestampMicroseconds: 9, commitCount: 3)
        let encoded = header.encoded()
        #expect(encoded.count == SegmentFormat.headerBytes)
        #expect(try encoded.withUnsafeBytes { try SegmentHeader.decode($0).get() } == header)
        for offset in 0..<encoded.count {
            var flipped = encoded
            flipped[offset] ^= 1
            #expect((try? flipped.withUnsafeBytes { try SegmentHeader.decode($0).get() }) == nil)
        }
        let frame = FrameHeader(
            kind: .commit, startsZstdFrame: true, payloadBytes: 10, plainBytes: 20, recordCount: 2,
            firstSequence: 5, timestampMicroseconds: 6, payloadChecksum: 0xDEAD)
        var bytes = [UInt8](repeating: 0, count: SegmentFormat.frameHeaderBytes)
        frame.store(into: &bytes, at: 0)
        #expect(try bytes.withUnsafeBytes { try FrameHeader.decode($0).get() } == frame)
        for offset in 0..<bytes.count {
            var flipped = bytes
            flipped[offset] ^= 1
            #expect((try? flipped.withUnsafeBytes { try FrameHeader.decode($0).get() }) == nil)
        }
    }

    /// Segment names are the 20-digit first sequence.
    @Test func segmentNames() {
        #expect(SegmentFormat.fileName(firstSequence: 1) == "00000000000000000001.seg")
        #expect(SegmentFormat.firstSequence(fileName: "00000000000000000042.seg") == 42)
        #expect(SegmentFormat.firstSequence(fileName: "00000000000000000042.seg.broken") == nil)
        #expect(SegmentFormat.firstSequence(fileName: "LOCK") == nil)
    }
}

/// Dense blocks of the first builds (commit table by row) stay readable.
@Suite struct DenseLayoutTests {
    /// A row-layout table (flag bit 1 clear) and a columnar one decode to the same commits.
    @Test func rowAndColumnarTablesDecodeAlike() throws {
        let records: [[UInt8]] = [[1], [2, 2], [3]]
        var row: [UInt8] = []
        for value: UInt64 in [2, 1, 0, 2, 5] { row.appendVarint(value) }
        RecordLayout.appendRecords(records, to: &row)
        let commits = [
            CommitEntry(recordCount: 1, timestampMicroseconds: 100),
            CommitEntry(recordCount: 2, timestampMicroseconds: 105),
        ]
        var recordBytes: [UInt8] = []
        RecordLayout.appendRecords(records, to: &recordBytes)
        let columnar = RecordLayout.denseBlock(commits: commits, records: recordBytes)
        for (plain, isColumnar) in [(row, false), (columnar, true)] {
            let header = FrameHeader(
                kind: .denseBlock, startsZstdFrame: true, columnarTable: isColumnar, payloadBytes: 0,
                plainBytes: plain.count, recordCount: 3, firstSequence: 10, timestampMicroseconds: 100,
                payloadChecksum: 0)
            let batch = try RecordLayout.decodeDense(header, plain: plain).get()
            #expect(batch.commits == commits)
            var iterator = BatchIterator(batch)
            var read: [[UInt8]] = []
            while let record = iterator.next() { read.append(Array(batch.plain[record.range])) }
            #expect(read == records)
        }
    }
}
