import EventLog
import Registry

/// `verify`'s check of the segments' tally frames (docs/FORMAT.md "Tally frame") against their
/// records. The log checks a tally's checksums and that its counts sum to the segment's records;
/// only the records show counts moved between kinds. Each stretch counts the records it owns by
/// scheme-1 slot, per segment (`SegmentKindCounts`); `merge` adds a stretch's counts to the
/// totals and `problems` compares every segment whose every record was counted with its tally.
struct TallyCheck: Sendable {
    /// The segments holding records, in sequence order.
    let segments: [SegmentInfo]
    private let lastSequences: [UInt64]

    init(segments: [SegmentInfo]) {
        self.segments = segments.filter { $0.lastSequence > 0 && $0.lastSequence >= $0.firstSequence }
        lastSequences = self.segments.map(\.lastSequence)
    }

    /// Counts of every segment, `RecordTally.slotCount` each, for `merge` to add to.
    func emptyTotals() -> [Int] {
        [Int](repeating: 0, count: segments.count * RecordTally.slotCount)
    }

    /// A counter for the records of one stretch.
    func counter() -> SegmentKindCounts {
        SegmentKindCounts(lastSequences: lastSequences)
    }

    /// Adds one stretch's counts to `totals`.
    func merge(_ stretch: SegmentKindCounts, into totals: inout [Int]) {
        let start = stretch.firstSegment * RecordTally.slotCount
        for (index, count) in stretch.counts.enumerated() where count > 0 && start + index < totals.count {
            totals[start + index] += count
        }
    }

    /// A row for each segment whose every record was counted and whose scheme-1 tally disagrees.
    func problems(_ totals: [Int]) -> [VerifyProblem] {
        var problems: [VerifyProblem] = []
        for (index, segment) in segments.enumerated() {
            let start = index * RecordTally.slotCount
            if let problem = Self.problem(segment, records: totals[start..<(start + RecordTally.slotCount)]) {
                problems.append(problem)
            }
        }
        return problems
    }

    /// The problem with `segment`'s tally given its records counted by slot, nil when they agree,
    /// when the tally is not scheme 1 (its slots mean something else), or when not every record
    /// was counted (a damaged segment, reported as such).
    static func problem(_ segment: SegmentInfo, records: ArraySlice<Int>) -> VerifyProblem? {
        guard let tally = segment.tally, tally.scheme == EventCodec.tallyScheme,
            records.reduce(0, +) == Int(segment.lastSequence - segment.firstSequence + 1)
        else { return nil }
        var differences: [String] = []
        for (slot, (tallied, held)) in zip(tally.counts, records).enumerated() where tallied != UInt64(held) {
            differences.append("tally counts \(tallied) \(name(slot)), the records hold \(held)")
        }
        guard !differences.isEmpty else { return nil }
        return VerifyProblem(
            file: "log/" + segment.fileName,
            offset: segment.tallyFrameOffset,
            sequence: segment.lastSequence,
            problem: differences.joined(separator: "; ")
                + ": the records are intact and the server does not use tallies, but `stats` counts this "
                + "segment's kinds from its tally and would miscount them; run repair to rebuild the tally frame "
                + "from the records (nothing is cut)")
    }

    /// A slot's kind under scheme 1, or what the slot stands for.
    static func name(_ slot: Int) -> String {
        if let kind = EventCodec.kind(tallySlot: slot) { return kind.rawValue }
        if slot == EventCodec.tallyUnknownSlot { return "records of an unknown version or kind (slot \(slot))" }
        return "records in unused slot \(slot)"
    }
}

/// One stretch's records counted by scheme-1 slot, per segment, from the stretch's first segment
/// on. Records come in ascending sequence, so the segment is found by moving an index forward.
/// The current segment counts in fixed storage (no copy-on-write check per record) and is added
/// to the others when the stretch moves on.
struct SegmentKindCounts: Sendable {
    private let lastSequences: [UInt64]
    /// The index (in `TallyCheck.segments`) of the segment `counts` starts with.
    private(set) var firstSegment = 0
    /// The counts of the segments before the current one, `RecordTally.slotCount` each.
    private var passed: [Int] = []
    /// The current segment's counts.
    private var current = InlineArray<16, Int>(repeating: 0)
    private var segment = -1
    /// The current segment's last sequence: a later record moves on (0: none yet).
    private var segmentLast: UInt64 = 0

    init(lastSequences: [UInt64]) {
        precondition(current.count == RecordTally.slotCount, "a tally has \(RecordTally.slotCount) slots")
        self.lastSequences = lastSequences
    }

    /// `RecordTally.slotCount` counts per segment from `firstSegment` on (none before the first
    /// record).
    var counts: [Int] {
        guard segment >= 0 else { return [] }
        return passed + (0..<RecordTally.slotCount).map { current[$0] }
    }

    /// Counts the record at `sequence` (at least the previous one's) in its segment.
    @inline(__always)
    mutating func count(_ sequence: UInt64, _ payload: UnsafeRawBufferPointer) {
        count(sequence, slot: EventCodec.tallySlot(payload))
    }

    /// Counts the record at `sequence` in `slot` (`EventCodec.tallySlot` of its payload).
    @inline(__always)
    mutating func count(_ sequence: UInt64, slot: Int) {
        if sequence > segmentLast { advance(to: sequence) }
        current[slot] &+= 1
    }

    /// Moves to the segment holding `sequence`: found by a search for the stretch's first record,
    /// by stepping after. A sequence past every segment counts in the last (which then holds more
    /// records than it has, and is not compared).
    private mutating func advance(to sequence: UInt64) {
        if segment < 0 {
            var low = 0
            var high = lastSequences.count
            while low < high {
                let middle = (low + high) / 2
                if lastSequences[middle] < sequence { low = middle + 1 } else { high = middle }
            }
            segment = min(low, max(lastSequences.count - 1, 0))
            firstSegment = segment
        } else {
            while segment + 1 < lastSequences.count, lastSequences[segment] < sequence {
                passed.append(contentsOf: (0..<RecordTally.slotCount).map { current[$0] })
                current = InlineArray(repeating: 0)
                segment += 1
            }
        }
        let last = segment < lastSequences.count ? lastSequences[segment] : 0
        segmentLast = last >= sequence ? last : .max
    }
}
