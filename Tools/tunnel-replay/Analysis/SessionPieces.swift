import EventLog
import FileStore
import Registry

/// A stretch of the log one thread folds into sessions on its own: it starts from the newest
/// snapshot at or before `snapshot`, folds the records up to `trackFrom` into the projection
/// only, then tracks sessions (those open then continue, `SessionTracker(continuing:)`) through
/// `last`. Pieces after the first start at a snapshot, so no thread reads what another reads.
struct SessionPiece: Sendable, Equatable {
    /// The newest snapshot at or before this sequence is the start (0: the empty projection).
    var snapshot: UInt64
    /// Tracking starts at the first record with at least this sequence and, when given, time.
    var trackFromSequence: UInt64
    var trackFromTime: Int64?
    /// The last record of the piece; nil: to `until` or the end of the log.
    var last: UInt64?
}

/// What one piece found: its sessions (counts stored), which of them it continued from its start
/// and which are open at its end, and the orders the stitch merges by.
struct SessionPieceResult: Sendable {
    var sessions: [Session]
    /// `sessions[..<continuedCount]` were open when the piece began tracking.
    var continuedCount: Int
    /// For each continued session, whether a Register in the piece replaced its node, network, address.
    var continuedReregistered: [Bool]
    /// Every index of `sessions`, in `Session.ordered` order.
    var ordered: [Int]
    /// The continued sessions' indices, by name then id (`SessionKey` order).
    var continuedByKey: [Int]
    /// The indices of the sessions still open at the piece's end, by name then id.
    var openByKey: [Int]
}

extension SessionQuery {
    /// What folding a record into the projection only costs, as a share of folding and tracking
    /// it (measured on the generated bench log: about 0.8).
    static let foldOnlyShare = 0.8

    /// The pieces for `threads` threads over the records after the snapshot `start` (0: from the
    /// first record) to `until`, tracking from `since`, with equal work each: a record before
    /// `since` costs `foldOnlyShare` of one tracked. Each later piece begins at a snapshot taken at
    /// or after `since` and at or before `until`: the first at or after its share's end, or one
    /// before it when cheaper, the piece then folding without tracking to past that end so both
    /// sides of the boundary have equal work. Record counts at `since` and `until` are estimated
    /// from the snapshots' times. With one thread, one piece: the whole range, folded in place with
    /// the look-ahead (the event-by-event scan the caller falls back to is about three times the
    /// work). Nil when no such snapshot splits the range for more (the caller partitions by name).
    static func pieces(
        snapshots: [SnapshotPoint],
        start: UInt64,
        lastSequence: UInt64,
        since: Int64?,
        until: Int64?,
        threads: Int
    ) -> [SessionPiece]? {
        let candidates = snapshots.filter { point in
            point.sequence > start && point.sequence < lastSequence
                && since.map { point.timeMicroseconds >= $0 } ?? true
                && until.map { point.timeMicroseconds <= $0 } ?? true
        }
        if threads == 1 {
            return [SessionPiece(snapshot: start, trackFromSequence: start + 1, trackFromTime: since, last: nil)]
        }
        guard !candidates.isEmpty else { return nil }
        let first = Double(start)
        let end = Double(until.map { estimatedSequence(at: $0, snapshots: snapshots) ?? lastSequence } ?? lastSequence)
        var trackStart = first
        if let since, let sequence = estimatedSequence(at: since, snapshots: snapshots) {
            trackStart = min(max(first, Double(sequence)), end)
        }
        let untracked = foldOnlyShare * (trackStart - first)
        let total = untracked + max(0, end - trackStart)
        var boundaries: [(snapshot: UInt64, last: UInt64)] = []
        for part in 1..<threads {
            let work = total * Double(part) / Double(threads)
            let target = work <= untracked ? first + work / foldOnlyShare : trackStart + (work - untracked)
            let previous = boundaries.last?.last ?? start
            let open = candidates.filter { $0.sequence > previous }
            if let boundary = boundary(near: target, among: open, lastSequence: lastSequence) {
                boundaries.append(boundary)
            }
        }
        guard !boundaries.isEmpty else { return nil }
        var pieces = [
            SessionPiece(snapshot: start, trackFromSequence: start + 1, trackFromTime: since, last: boundaries[0].last)
        ]
        for (offset, boundary) in boundaries.enumerated() {
            let next = offset + 1 < boundaries.count ? boundaries[offset + 1].last : nil
            pieces.append(
                SessionPiece(
                    snapshot: boundary.snapshot,
                    trackFromSequence: boundary.last + 1,
                    trackFromTime: nil,
                    last: next
                )
            )
        }
        return pieces
    }

    /// Where a piece begins to split at `target`: the first snapshot at or after it (the piece
    /// before ends there), or the last before it when cheaper (the piece folds from it untracked
    /// and the boundary moves past the target by what keeps the work on both sides equal).
    private static func boundary(
        near target: Double,
        among snapshots: [SnapshotPoint],
        lastSequence: UInt64
    ) -> (snapshot: UInt64, last: UInt64)? {
        var best: (snapshot: UInt64, last: UInt64)?
        var excess = Double.infinity
        if let after = snapshots.first(where: { Double($0.sequence) >= target }) {
            best = (after.sequence, after.sequence)
            excess = Double(after.sequence) - target
        }
        if let before = snapshots.last(where: { Double($0.sequence) < target }) {
            let extra = foldOnlyShare * (target - Double(before.sequence)) / (2 - foldOnlyShare)
            let last = UInt64(target + extra)
            if extra < excess, last < lastSequence { best = (before.sequence, last) }
        }
        return best
    }

    /// The sequence of the last record at or before `time`, interpolated between the snapshots
    /// around it; nil when no snapshot is later (the caller takes the last record).
    static func estimatedSequence(at time: Int64, snapshots: [SnapshotPoint]) -> UInt64? {
        guard let after = snapshots.firstIndex(where: { $0.timeMicroseconds > time }) else { return nil }
        let later = snapshots[after]
        let earlier = after > 0 ? snapshots[after - 1] : SnapshotPoint(sequence: 0, timeMicroseconds: time)
        guard later.timeMicroseconds > earlier.timeMicroseconds, later.sequence > earlier.sequence else {
            return earlier.sequence
        }
        let fraction =
            Double(time - earlier.timeMicroseconds) / Double(later.timeMicroseconds - earlier.timeMicroseconds)
        return earlier.sequence + UInt64(fraction * Double(later.sequence - earlier.sequence))
    }

    /// The sessions of a data directory's records to `until`, split in time into `SessionPiece`s
    /// folded on `ScanThreads.count` threads at once and stitched (`stitch`). With `since`, the
    /// fold starts from the newest snapshot at or before it, the records before it only move the
    /// projection and the leases live at `since` continue as sessions; without, it starts from the
    /// first record. Only the sessions `keeping` accepts are returned. Nil when reading the shared
    /// log, or with several threads when no snapshot splits the range (the caller then partitions
    /// by name).
    static func inPieces(
        _ scan: EventScan,
        seekingTo since: Int64?,
        name: String?,
        until: Int64?,
        keeping: (Session) -> Bool
    ) throws(ReplayError) -> [Session]? {
        guard scan.reader != nil else { return nil }
        let snapshots = since.map { scan.snapshotPoints(since: $0, until: until) } ?? scan.snapshotPoints()
        let start = since.flatMap { since in snapshots.last { $0.timeMicroseconds <= since }?.sequence } ?? 0
        // Listed once for every piece: listing scans the newest segment's commits.
        let segments = try scan.segments()
        let lastSequence = EventScan.lastSequence(of: segments)
        guard
            let pieces = Self.pieces(
                snapshots: snapshots,
                start: start,
                lastSequence: lastSequence,
                since: since,
                until: until,
                threads: ScanThreads.count
            )
        else { return nil }
        var results: [SessionPieceResult] = []
        results.reserveCapacity(pieces.count)
        try scan.runParallel(count: pieces.count) { index in
            try Self.fold(
                pieces[index],
                scan: scan,
                segments: segments,
                name: name,
                until: until,
                progressTotal: index == 0 ? (pieces[0].last ?? lastSequence) - pieces[0].snapshot : nil
            )
        } consume: {
            results.append($0)
        }
        return stitch(consume results, keeping: keeping)
    }

    /// One piece's fold over the jobs' records in its range, in order.
    private static func fold(
        _ piece: SessionPiece,
        scan: EventScan,
        segments: [SegmentInfo],
        name: String?,
        until: Int64?,
        progressTotal: UInt64?
    ) throws -> SessionPieceResult {
        let projection = piece.snapshot > 0 ? scan.newestSnapshot(atOrBeforeSequence: piece.snapshot) : Projection()
        let first = projection.lastSequence + 1
        var state = PieceFold(piece: piece, name: name, projection: projection)
        var progress = progressTotal.map { Progress(label: "scanning", total: $0) }
        defer { progress?.finish() }
        var records = 0
        let last = piece.last ?? .max
        let jobs = scan.jobs(of: segments, fromSequence: first, through: last, until: until)
        for job in jobs where job.firstSequence <= last {
            let clipped = LogJob(
                firstSequence: max(job.firstSequence, first),
                lastSequence: piece.last.map { min(job.lastSequence ?? .max, $0) } ?? job.lastSequence
            )
            var reachedUntil = false
            // The fold borrows each batch's payloads: it folds what it holds before the batch goes.
            try scan.read(clipped, whileValid: { try state.flush() }) { sequence, time, payload in
                if let until, time > until {
                    reachedUntil = true
                    return false
                }
                records += 1
                if records & 0xFFF == 0 { progress?.advance(by: 0x1000) }
                try state.take(sequence: sequence, time: time, payload: payload)
                return true
            }
            if reachedUntil { break }
        }
        try state.flush()
        if !state.tracking { state.tracker.continueLiveLeases(name: name, partition: nil) }
        return state.tracker.pieceResult()
    }

    /// The sessions of consecutive pieces, in `Session.ordered` order, as one fold of them all
    /// would find them: a session a piece continued is the one the pieces before left open for
    /// that lease (the same name and id, canonically equivalent), which keeps its start and fields
    /// (unless the piece registered it again) and takes the piece's end, renews and longest gap.
    /// The lease's last activity before the piece is its last renew, which the continued session
    /// counts its first gap from. Both sides come sorted by key and the rows by start, so the
    /// stitch pairs and merges in one pass each. Only the sessions `keeping` accepts are returned.
    ///
    /// The results are consumed: sessions are moved (swapped) out of them rather than copied, so
    /// no string is retained or released per session (copies were most of the stitch's time).
    static func stitch(
        _ results: consuming [SessionPieceResult],
        keeping: (Session) -> Bool = { _ in true }
    ) -> [Session] {
        guard !results.isEmpty else { return [] }
        var all: [Session] = []
        swap(&all, &results[0].sessions)
        var order = results[0].ordered
        var open = results[0].openByKey
        for piece in results.indices.dropFirst() {
            var sessions: [Session] = []
            swap(&sessions, &results[piece].sessions)
            let result = results[piece]
            var placed = [Int](repeating: -1, count: sessions.count)
            var cursor = 0
            for index in result.continuedByKey {
                let key = SessionKey(sessions[index])
                while cursor < open.count, SessionKey(all[open[cursor]]) < key { cursor += 1 }
                guard cursor < open.count, SessionKey(all[open[cursor]]) == key else { continue }
                placed[index] = open[cursor]
                all[open[cursor]].continue(with: sessions[index], reregistered: result.continuedReregistered[index])
                cursor += 1
            }
            var own: [Int] = []
            own.reserveCapacity(sessions.count)
            all.reserveCapacity(all.count + sessions.count)
            for index in result.ordered where placed[index] < 0 {
                placed[index] = all.count
                own.append(all.count)
                all.append(Session.placeholder)
                swap(&all[all.count - 1], &sessions[index])
            }
            order = merge(order, own, of: all)
            open = result.openByKey.map { placed[$0] }
        }
        var stitched: [Session] = []
        stitched.reserveCapacity(order.count)
        for index in order where keeping(all[index]) {
            stitched.append(Session.placeholder)
            swap(&stitched[stitched.count - 1], &all[index])
        }
        return stitched
    }

    /// Two lists of indices of `sessions`, each in `Session.ordered` order, as one.
    private static func merge(_ left: [Int], _ right: [Int], of sessions: [Session]) -> [Int] {
        if right.isEmpty { return left }
        if let last = left.last, let next = right.first, Session.ordered(sessions[last], sessions[next]) {
            return left + right
        }
        var merged: [Int] = []
        merged.reserveCapacity(left.count + right.count)
        var (i, j) = (0, 0)
        while i < left.count, j < right.count {
            if Session.ordered(sessions[right[j]], sessions[left[i]]) {
                merged.append(right[j])
                j += 1
            } else {
                merged.append(left[i])
                i += 1
            }
        }
        merged += left[i...]
        merged += right[j...]
        return merged
    }
}
