import Registry
import Testing

@testable import SharedLog

/// The batch frame and its envelope, without a database.
@Suite struct BatchFrameTests {
    @Test func freshFrameRoundTrips() throws {
        // A fresh row's frame gives back its payloads, in order, at the row's commit time and sequences.
        let payloads: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 300)]
        let frame = BatchFrame.encode(payloads: payloads, level: 3)
        let decoded = try BatchFrame.decode(frame, firstSequence: 41, count: 3, committedAt: 1_000).get()
        #expect(decoded.records.map(\.payload) == payloads)
        #expect(decoded.records.map(\.sequence) == [41, 42, 43])
        #expect(decoded.records.allSatisfy { $0.timeMicroseconds == 1_000 })
    }

    @Test func denseFrameKeepsEachCommitsTime() throws {
        // A merged frame keeps every original commit's time, relative to the row's committed_at (the newest).
        let commits = [
            BatchFrame.Commit(recordCount: 2, timeMicroseconds: 100),
            BatchFrame.Commit(recordCount: 1, timeMicroseconds: 100),
            BatchFrame.Commit(recordCount: 1, timeMicroseconds: 5_000),
        ]
        let payloads: [[UInt8]] = [[1], [2], [3], [4]]
        let frame = BatchFrame.encode(commits: commits, payloads: payloads, level: 9)
        let decoded = try BatchFrame.decode(frame, firstSequence: 1, count: 4, committedAt: 5_000).get()
        #expect(decoded.records.map(\.timeMicroseconds) == [100, 100, 100, 5_000])
        #expect(decoded.commits == commits)
    }

    @Test func damageIsReportedNotDecoded() {
        // A flipped byte (CRC32C), a wrong row count and a truncated frame are each reported, never decoded.
        let frame = BatchFrame.encode(payloads: [Array("hello".utf8), Array("world".utf8)], level: 3)
        var flipped = frame
        flipped[frame.count - 2] ^= 0xFF
        for (bytes, count) in [(flipped, 2), (frame, 3), (Array(frame.prefix(6)), 2)] {
            let result = BatchFrame.decode(bytes, firstSequence: 1, count: count, committedAt: 0)
            guard case .failure = result else {
                Issue.record("damaged frame decoded")
                continue
            }
        }
    }

    @Test func readerSkipsRecordsAtOrBeforeItsPositionAndStopsAtGaps() {
        // A dense row starting before the reader's position is cut at the position; a missing range is a gap.
        let dense = BatchRow(
            firstSequence: 1, count: 3, committedAt: 10, frame: BatchFrame.encode(payloads: [[1], [2], [3]], level: 3))
        let after = BatchRow(
            firstSequence: 6, count: 1, committedAt: 11, frame: BatchFrame.encode(payloads: [[6]], level: 3))
        let (records, _, problem) = recordsAfter(1, in: [dense, after])
        #expect(records.map(\.sequence) == [2, 3])
        guard case .gap(let expected, let found)? = problem else {
            Issue.record("no gap reported")
            return
        }
        #expect(expected == 4 && found == 6)
    }

    @Test func readerPassesOmittedRowsWithoutDecodingThem() {
        // A row the tail omits (its own commit) is covered by `through` but never decoded, even when damaged.
        let first = BatchRow(
            firstSequence: 1, count: 2, committedAt: 10, frame: BatchFrame.encode(payloads: [[1], [2]], level: 3))
        let own = BatchRow(firstSequence: 3, count: 2, committedAt: 11, frame: [0xFF, 0xFF])
        let last = BatchRow(
            firstSequence: 5, count: 1, committedAt: 12, frame: BatchFrame.encode(payloads: [[5]], level: 3))
        let (records, through, problem) = recordsAfter(0, in: [first, own, last], head: 5) { $0.firstSequence == 3 }
        #expect(problem == nil)
        #expect(records.map(\.sequence) == [1, 2, 5])
        #expect(through == 5)
    }
}
