import Registry

/// The plain body of a `log_batch.frame`: the commits the row holds (one for a fresh row, many
/// after the merger) and their payloads, stored by column so zstd finds the repeats. Times are
/// relative to the row's `committed_at` (the newest commit's time), so a fresh row is encoded
/// before the database picks its commit time. Byte by byte in docs/FORMAT.md.
enum BatchFrame {
    /// One commit inside a row: how many records, and when.
    struct Commit: Equatable {
        var recordCount: Int
        var timeMicroseconds: Int64
    }

    /// Limits checked before allocating from a damaged frame.
    static let recordsMax = 1 << 20

    /// The frame of one fresh commit of `payloads`.
    static func encode(payloads: [[UInt8]], level: Int) -> [UInt8] {
        encode(commits: [Commit(recordCount: payloads.count, timeMicroseconds: 0)], payloads: payloads, level: level)
    }

    /// The frame of several commits; `commits` sum to `payloads.count`, times non-decreasing, the
    /// newest commit's time being the row's `committed_at`.
    static func encode(commits: [Commit], payloads: [[UInt8]], level: Int) -> [UInt8] {
        precondition(!commits.isEmpty && !payloads.isEmpty, "a batch holds at least one commit and one record")
        precondition(
            commits.reduce(0) { $0 + $1.recordCount } == payloads.count,
            "commits count \(commits.reduce(0) { $0 + $1.recordCount }) records, payloads \(payloads.count)")
        var plain: [UInt8] = []
        plain.reserveCapacity(payloads.reduce(16 + commits.count * 3) { $0 + $1.count + 2 })
        appendVarint(&plain, UInt64(commits.count))
        appendVarint(&plain, UInt64(payloads.count))
        for commit in commits { appendVarint(&plain, UInt64(commit.recordCount)) }
        for index in commits.indices.dropLast() {
            let gap = commits[index + 1].timeMicroseconds - commits[index].timeMicroseconds
            precondition(gap >= 0, "commit times go back by \(-gap) µs at commit \(index + 1)")
            appendVarint(&plain, UInt64(gap))
        }
        for payload in payloads { appendVarint(&plain, UInt64(payload.count)) }
        for payload in payloads { plain.append(contentsOf: payload) }
        return Envelope.seal(plain, level: level)
    }

    /// The records of a row, or a reason why the row is damaged.
    static func decode(
        _ frame: [UInt8], firstSequence: UInt64, count: Int, committedAt: Int64
    ) -> Result<(records: [StoreRecord], commits: [Commit]), EnvelopeFailure> {
        let plain: [UInt8]
        switch Envelope.open(frame) {
        case .success(let bytes): plain = bytes
        case .failure(let failure): return .failure(failure)
        }
        var reader = ByteReader(plain)
        guard let commitCount = reader.varint(), let recordCount = reader.varint() else {
            return .failure(.init("the frame ends inside its counts"))
        }
        guard recordCount == UInt64(count), count > 0, count <= recordsMax else {
            return .failure(.init("the frame holds \(recordCount) records, the row says \(count)"))
        }
        guard commitCount >= 1, commitCount <= recordCount else {
            return .failure(.init("\(commitCount) commits for \(recordCount) records"))
        }
        var commits: [Commit] = []
        commits.reserveCapacity(Int(commitCount))
        var total = 0
        for _ in 0..<commitCount {
            guard let records = reader.varint(), records >= 1, records <= recordCount else {
                return .failure(.init("a commit's record count is missing or out of range"))
            }
            total += Int(records)
            commits.append(Commit(recordCount: Int(records), timeMicroseconds: 0))
        }
        guard total == count else { return .failure(.init("the commits hold \(total) records, the row says \(count)")) }
        var gaps: [Int64] = []
        for _ in 0..<(commitCount - 1) {
            guard let gap = reader.varint(), gap <= UInt64(Int64.max / 4) else {
                return .failure(.init("a commit time gap is missing or out of range"))
            }
            gaps.append(Int64(gap))
        }
        var time = committedAt
        for index in commits.indices.reversed() {
            commits[index].timeMicroseconds = time
            if index > 0 { time -= gaps[index - 1] }
        }
        var lengths: [Int] = []
        lengths.reserveCapacity(count)
        var payloadBytes = 0
        for _ in 0..<count {
            guard let length = reader.varint(), length <= UInt64(reader.remaining) else {
                return .failure(.init("a payload length is missing or longer than the frame"))
            }
            lengths.append(Int(length))
            payloadBytes += Int(length)
        }
        guard payloadBytes == reader.remaining else {
            return .failure(.init("the payloads take \(payloadBytes) bytes, the frame has \(reader.remaining) left"))
        }
        var records: [StoreRecord] = []
        records.reserveCapacity(count)
        var offset = reader.offset
        var sequence = firstSequence
        var lengthIndex = 0
        for commit in commits {
            for _ in 0..<commit.recordCount {
                let length = lengths[lengthIndex]
                records.append(
                    StoreRecord(
                        sequence: sequence, timeMicroseconds: commit.timeMicroseconds,
                        payload: Array(plain[offset..<(offset + length)])))
                offset += length
                sequence += 1
                lengthIndex += 1
            }
        }
        return .success((records, commits))
    }
}
