import EventLog

/// `repair --format json|csv`: the plan, the result and a healthy log as rows of one table, so
/// a script reads the same columns whatever happened (cells that do not apply are null).
///
/// `status` says which row it is: `plan` (what will be cut, printed before asking), `repaired`
/// (after the cut) or `healthy` (nothing to cut, the only row). `action` says what repair does at
/// the row's damage: `cut`, or `rebuild_tally` (a sealed segment's damaged or miscounting tally
/// frame rebuilt from its records: nothing cut or set aside, the damaged file kept as `.broken`); a repair that
/// rebuilds tallies prints a plan row per damage, in order, before asking, then a repaired row per
/// damage.
enum RepairOutput {
    static let columns = [
        "status", "action", "file", "offset", "problem", "last_kept_sequence", "first_cut_sequence",
        "last_cut_sequence", "cut_bytes", "set_aside", "snapshots_set_aside", "last_sequence",
    ]

    /// The plan: where the damage is, what is kept and cut, the files to be set aside (their
    /// names now, relative to the data directory).
    static func plan(_ plan: RepairPlan, snapshots: [UInt64], directory: DataDirectory) -> [Cell] {
        planCells(plan, status: "plan") + [
            .list(plan.setAside.map { .text("log/" + $0) }),
            .list(snapshots.map { .text(directory.snapshotFile($0)) }), .null,
        ]
    }

    /// The result: the plan's fields again, the `.broken` files now beside the log, and the log's
    /// last sequence after the repair.
    static func repaired(
        _ report: RepairReport,
        plan: RepairPlan,
        snapshots: [UInt64],
        directory: DataDirectory
    ) -> [Cell] {
        planCells(plan, status: "repaired") + [
            .list(plan.rebuildsTally ? [] : report.setAside.map { .text("log/" + $0) }),
            .list(snapshots.map { .text(directory.snapshotFile($0) + ".broken") }), sequence(report.lastSequence),
        ]
    }

    /// A log with nothing to cut.
    static var healthy: [Cell] {
        [.text("healthy"), .null, .null, .null, .null, .null, .null, .null, .int(0), .list([]), .list([]), .null]
    }

    /// `status` to `cut_bytes`.
    private static func planCells(_ plan: RepairPlan, status: String) -> [Cell] {
        [
            .text(status), .text(plan.rebuildsTally ? "rebuild_tally" : "cut"), .text("log/" + plan.file),
            .int(Int64(plan.offset)), .text(RepairCommand.reason(plan)),
            sequence(plan.lastKeptSequence), sequence(plan.firstCutSequence),
            plan.lastCutSequence.map(sequence) ?? .null,
            .int(Int64(plan.cutBytes)),
        ]
    }

    /// A sequence as a number; as text in the impossible case it passes Int64 (a cut file's
    /// header is not trusted).
    private static func sequence(_ value: UInt64) -> Cell {
        Int64(exactly: value).map(Cell.int) ?? .text(String(value))
    }
}
