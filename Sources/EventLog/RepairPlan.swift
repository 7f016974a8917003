/// What `EventLogWriter.repair(directory:recordTally:logger:)` found and did.
public struct RepairReport: Sendable, Equatable {
    /// The first damage found (file, offset, reason), nil when the log was healthy and left alone.
    public var damage: EventLogError?
    /// The last sequence the log holds after repair (0 when empty).
    public var lastSequence: UInt64
    /// Files renamed aside with a `.broken` suffix by the cut (the damaged original and every
    /// later segment); empty when nothing was cut.
    public var setAside: [String]
    /// The segments whose tally frame was rebuilt from their records (nothing of them cut), oldest first.
    public var rebuiltTallies: [RebuiltTally] = []
}

/// A segment whose damaged tally frame repair rebuilt: every record kept, the original kept aside.
public struct RebuiltTally: Sendable, Equatable {
    /// The segment's file name (the rebuilt segment).
    public var file: String
    /// The name the damaged original is kept under (`NAME.seg.broken`).
    public var keptAs: String
    /// The damage found in its tally frame.
    public var damage: EventLogError
}

/// One thing `EventLogWriter.repair(directory:recordTally:logger:)` will do at a damage, read by
/// `EventLogWriter.repairPlans(directory:recordTally:)` so a tool can say it before doing it:
/// rebuild a segment's tally frame (nothing cut) or cut the log there.
public struct RepairPlan: Sendable, Equatable {
    /// What repair does at the damage.
    public enum Action: Sendable, Equatable {
        /// Cut the log at the damage: the whole commits before it are kept, the rest is set aside.
        case cut
        /// Rebuild the damaged tally frame of a sealed version-2 segment whose blocks and seal are
        /// intact: every record is kept, nothing else is set aside, the original stays as `.broken`.
        case rebuildTally
    }

    /// The damage (file path, offset, sequence, reason).
    public var damage: EventLogError
    /// The damaged segment's file name.
    public var file: String
    /// Where in it the damage starts; for a cut, the whole commits before it are kept.
    public var offset: Int
    public var reason: String
    /// What repair does there.
    public var action: Action = .cut
    /// The last sequence the log keeps after repair (0 when nothing is kept).
    public var lastKeptSequence: UInt64
    /// The first sequence cut (`lastKeptSequence + 1`; for a tally rebuild, the next one the
    /// writer appends unless a later step cuts).
    public var firstCutSequence: UInt64
    /// The last sequence the cut files claim, nil when their headers cannot tell (or nothing is cut).
    public var lastCutSequence: UInt64?
    /// Bytes no longer read: the damaged segment from `offset` on (all of it when none of its
    /// commits is kept) and every later segment; 0 for a tally rebuild.
    public var cutBytes: Int
    /// The segment files renamed aside as `.broken` (the damaged one and every later one); empty
    /// for a tally rebuild (its original is kept as `.broken` but replaced, not set aside).
    public var setAside: [String]
    /// For a tally frame whose checksums and sum check but whose counts differ from its records
    /// (a rebuild), each slot that differs, lowest first; empty for any other damage.
    public var tallyMismatches: [TallyMismatch] = []

    /// True when repair rebuilds the segment's tally frame instead of cutting.
    public var rebuildsTally: Bool { action == .rebuildTally }
}

/// A slot whose count in a segment's tally frame differs from the segment's records counted
/// under the configured `RecordTally` (docs/FORMAT.md "Repair").
public struct TallyMismatch: Sendable, Equatable {
    /// The slot (`0..<RecordTally.slotCount`).
    public var slot: Int
    /// What the tally frame counts in the slot.
    public var tallied: UInt64
    /// How many of the segment's records the classifier puts in the slot.
    public var records: UInt64

    public init(slot: Int, tallied: UInt64, records: UInt64) {
        self.slot = slot
        self.tallied = tallied
        self.records = records
    }

    /// The slots where `stored` (a tally frame's counts) and `counted` (its records') differ.
    static func between(_ stored: SegmentTally, _ counted: SegmentTally) -> [TallyMismatch] {
        zip(stored.counts, counted.counts).enumerated().compactMap { slot, pair in
            pair.0 == pair.1 ? nil : TallyMismatch(slot: slot, tallied: pair.0, records: pair.1)
        }
    }

    /// The reason a repair plan gives, e.g. "the tally frame's counts differ from its records:
    /// slot 1 counts 10 against 7 records, slot 2 counts 5 against 8".
    static func reason(_ mismatches: [TallyMismatch]) -> String {
        "the tally frame's counts differ from its records: "
            + mismatches.enumerated().map { index, mismatch in
                "slot \(mismatch.slot) counts \(mismatch.tallied) against \(mismatch.records)"
                    + (index == 0 ? " records" : "")
            }.joined(separator: ", ")
    }
}
