/// One commit inside a decoded batch: how many records and their shared timestamp.
struct CommitEntry: Equatable, Sendable {
    var recordCount: Int
    var timestampMicroseconds: Int64
}

/// The decompressed bytes of one frame (a commit or a dense block), checked and ready to iterate.
struct DecodedBatch: Sendable {
    var firstSequence: UInt64
    var recordCount: Int
    var commits: [CommitEntry]
    var plain: [UInt8]
    /// Where the records (varint length + bytes each) begin in `plain`.
    var recordsStart: Int

    var lastSequence: UInt64 { firstSequence + UInt64(recordCount) - 1 }
    var lastTimestampMicroseconds: Int64 { commits.last?.timestampMicroseconds ?? 0 }
}

/// The plain (decompressed) layouts: records are `varint length, bytes`; a dense block puts a
/// table of its commits (`varint count`, every commit's `varint records`, then every commit's
/// `varint Δtimestamp`) before its records. Sequences and timestamps are never stored per record.
enum RecordLayout {
    static func plainBytes(of payloads: [[UInt8]]) -> Int {
        payloads.reduce(0) { $0 + Varint.size(UInt64($1.count)) + $1.count }
    }

    static func appendRecords(_ payloads: [[UInt8]], to plain: inout [UInt8]) {
        for payload in payloads {
            plain.appendVarint(UInt64(payload.count))
            plain.append(contentsOf: payload)
        }
    }

    /// Builds a dense block's plain bytes from its commits and their concatenated record bytes.
    static func denseBlock(commits: [CommitEntry], records: [UInt8]) -> [UInt8] {
        var plain: [UInt8] = []
        plain.reserveCapacity(records.count + commits.count * 4 + 8)
        plain.appendVarint(UInt64(commits.count))
        for commit in commits { plain.appendVarint(UInt64(commit.recordCount)) }
        var previous = commits.first?.timestampMicroseconds ?? 0
        for commit in commits {
            precondition(commit.timestampMicroseconds >= previous, "commit timestamps go back")
            plain.appendVarint(UInt64(commit.timestampMicroseconds - previous))
            previous = commit.timestampMicroseconds
        }
        plain.append(contentsOf: records)
        return plain
    }

    /// Checks a decompressed commit frame and wraps it as a batch.
    static func decodeCommit(_ header: FrameHeader, plain: [UInt8]) -> Result<DecodedBatch, FormatFailure> {
        guard header.recordCount >= 1 else { return .failure(.init(reason: "commit with no record")) }
        let batch = DecodedBatch(
            firstSequence: header.firstSequence, recordCount: header.recordCount,
            commits: [
                CommitEntry(recordCount: header.recordCount, timestampMicroseconds: header.timestampMicroseconds)
            ],
            plain: plain, recordsStart: 0)
        return checkRecords(batch).map { batch }
    }

    /// Parses a dense block's commit table and checks its records.
    static func decodeDense(_ header: FrameHeader, plain: [UInt8]) -> Result<DecodedBatch, FormatFailure> {
        var commits: [CommitEntry] = []
        var total = 0
        let parsed: Int? = plain.withUnsafeBytes { bytes in
            var offset = 0
            guard let count = Varint.read(bytes, &offset), count >= 1, count <= UInt64(header.recordCount) else {
                return nil
            }
            commits.reserveCapacity(Int(count))
            if !header.columnarTable {
                return readRowTable(bytes, &offset, count: Int(count), header: header, into: &commits, total: &total)
            }
            for _ in 0..<count {
                guard let records = Varint.read(bytes, &offset), records >= 1, records <= UInt64(header.recordCount)
                else { return nil }
                total += Int(records)
                commits.append(CommitEntry(recordCount: Int(records), timestampMicroseconds: 0))
            }
            var timestamp = header.timestampMicroseconds
            for index in 0..<Int(count) {
                guard let delta = Varint.read(bytes, &offset), delta <= UInt64(Int64.max - timestamp) else { return nil }
                timestamp += Int64(delta)
                commits[index].timestampMicroseconds = timestamp
            }
            return offset
        }
        guard let recordsStart = parsed, total == header.recordCount else {
            return .failure(.init(reason: "dense block commit table does not match \(header.recordCount) records"))
        }
        let batch = DecodedBatch(
            firstSequence: header.firstSequence, recordCount: header.recordCount, commits: commits,
            plain: plain, recordsStart: recordsStart)
        return checkRecords(batch).map { batch }
    }

    /// Reads the commit table of the first builds: `varint records, varint Δtimestamp` per commit.
    private static func readRowTable(
        _ bytes: UnsafeRawBufferPointer, _ offset: inout Int, count: Int, header: FrameHeader,
        into commits: inout [CommitEntry], total: inout Int
    ) -> Int? {
        var timestamp = header.timestampMicroseconds
        for _ in 0..<count {
            guard let records = Varint.read(bytes, &offset), records >= 1, records <= UInt64(header.recordCount),
                let delta = Varint.read(bytes, &offset), delta <= UInt64(Int64.max - timestamp)
            else { return nil }
            timestamp += Int64(delta)
            total += Int(records)
            commits.append(CommitEntry(recordCount: Int(records), timestampMicroseconds: timestamp))
        }
        return offset
    }

    /// Checks that exactly `recordCount` length-prefixed records fill the rest of the plain bytes.
    private static func checkRecords(_ batch: DecodedBatch) -> Result<Void, FormatFailure> {
        let ok = batch.plain.withUnsafeBytes { bytes -> Bool in
            var offset = batch.recordsStart
            for _ in 0..<batch.recordCount {
                guard let length = Varint.read(bytes, &offset), length <= UInt64(bytes.count - offset) else {
                    return false
                }
                offset += Int(length)
            }
            return offset == bytes.count
        }
        return ok
            ? .success(()) : .failure(.init(reason: "records do not fill the commit's \(batch.plain.count) bytes"))
    }
}

/// Walks a decoded batch record by record.
struct BatchIterator {
    let batch: DecodedBatch
    private var offset: Int
    private var commitIndex = 0
    private var remainingInCommit: Int
    private(set) var nextSequence: UInt64

    init(_ batch: DecodedBatch) {
        self.batch = batch
        self.offset = batch.recordsStart
        self.remainingInCommit = batch.commits.first?.recordCount ?? 0
        self.nextSequence = batch.firstSequence
    }

    /// True while a record is left.
    var hasNext: Bool { offset < batch.plain.count }

    /// The next record's sequence, timestamp and byte range in `batch.plain`.
    mutating func next() -> (sequence: UInt64, timestampMicroseconds: Int64, range: Range<Int>)? {
        batch.plain.withUnsafeBytes { next(in: $0) }
    }

    /// `next()` over `bytes`, which must be `batch.plain`'s (records were checked at decode).
    mutating func next(in bytes: UnsafeRawBufferPointer) -> (
        sequence: UInt64, timestampMicroseconds: Int64, range: Range<Int>
    )? {
        while remainingInCommit == 0 {
            commitIndex += 1
            guard commitIndex < batch.commits.count else { return nil }
            remainingInCommit = batch.commits[commitIndex].recordCount
        }
        remainingInCommit -= 1
        var position = offset
        let length = Int(Varint.read(bytes, &position)!)
        offset = position + length
        let sequence = nextSequence
        nextSequence += 1
        return (sequence, batch.commits[commitIndex].timestampMicroseconds, position..<offset)
    }
}

/// Decompresses and checks frames of one segment, in order.
final class BatchDecoder {
    private let decompressor = Decompressor()

    func reset() {
        decompressor.reset()
    }

    func decode(_ header: FrameHeader, payload: [UInt8]) -> Result<DecodedBatch, FormatFailure> {
        switch header.kind {
        case .commit:
            return decompressor.decompressCommit(
                payload, plainBytes: header.plainBytes, startsFrame: header.startsZstdFrame
            )
            .flatMap { RecordLayout.decodeCommit(header, plain: $0) }
        case .denseBlock:
            return decompressor.decompressBlock(payload, plainBytes: header.plainBytes)
                .flatMap { RecordLayout.decodeDense(header, plain: $0) }
        case .seal:
            return .failure(.init(reason: "a seal frame holds no records"))
        case .tally:
            return .failure(.init(reason: "a tally frame holds no records"))
        }
    }
}
