import FileStore
import ArgumentParser
import EventLog
import Logging
import Registry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `repair --data-dir DIR [--yes]`: cuts the log at its first damaged commit, after saying what
/// will be cut; the cut bytes stay in `.broken` files. A sealed segment whose only damage is its
/// tally frame, or whose tally frame counts its records otherwise, gets the tally rebuilt from
/// its records instead (nothing cut).
struct RepairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Cut the log at its first damaged commit (the cut segments are kept as .broken); asks first.",
        discussion: """
            Says which file, offset, sequences and bytes will be cut, then asks on stdin unless --yes. \
            Snapshots after the cut are set aside as .broken too (they no longer match the log). \
            A damaged tally frame (derived counts) of an intact sealed segment, or one whose counts \
            differ from its records by kind, is rebuilt from its records instead: no record is cut, \
            the damaged file is kept as .broken.
            The server must be stopped: repair takes the log's writer lock.

            With --format json or csv, stdout holds rows with a status column: plan (before asking), \
            then repaired; or one healthy row. The plan in words and the question then go to stderr.

            Exit codes: 0 repaired or nothing to do, 1 declined, 2 usage error, no answer, or failure.
            """
    )

    @Option(name: .long, help: "The registry's data directory (holding log/ and snapshots/).")
    var dataDir: String = "./data"
    @OptionGroup var outputFormat: FormatOptions
    @Flag(help: "Repair without asking.") var yes = false

    func run() throws {
        let directory = try DataDirectory(path: dataDir)
        let out = OutputSink()
        defer { out.flush() }
        let rows = outputFormat.format == .text ? nil : outputFormat.writer(columns: RepairOutput.columns)
        defer { rows?.finish() }
        let plans: [RepairPlan]
        do {
            plans = try EventLogWriter.repairPlans(directory: directory.logPath, recordTally: .registryEvents)
        } catch {
            throw ReplayError.readFailed("cannot scan the log in '\(directory.logPath)': \(error)")
        }
        guard let plan = plans.last else {
            guard let rows else {
                out.write("The log in '\(directory.logPath)' is healthy: nothing to cut.\n")
                return
            }
            rows.write(RepairOutput.healthy)
            return
        }
        let snapshots = try Self.snapshotsAfter(plan.lastKeptSequence, directory: directory)
        let description = plans.map { Self.describe($0, snapshots: snapshots, directory: directory) }.joined()
        if let rows {
            for step in plans {
                let stepSnapshots = step.rebuildsTally ? [] : snapshots
                rows.write(RepairOutput.plan(step, snapshots: stepSnapshots, directory: directory))
            }
            rows.flushNow()
        } else {
            out.write(description)
            out.flush()
        }
        if let holder = WriterLockProbe.holder(logDirectory: directory.logPath) {
            throw ReplayError.usage(
                "a server holds the writer lock on '\(directory.logPath)'\(holder): stop it, then run repair again"
            )
        }
        if !yes {
            // json and csv keep stdout for rows: the operator reads the plan in words beside the prompt.
            if rows != nil {
                let words = OutputSink(fileDescriptor: 2)
                words.write(description)
                words.flush()
            }
            switch Self.ask(plan.rebuildsTally ? "Rebuild the tally frame?" : "Cut the log?") {
            case nil:
                throw ReplayError.usage(
                    "no answer on stdin (it is empty or closed): pass --yes to repair without asking"
                )
            case false?:
                Diagnostics.warn("not repaired: nothing was changed")
                throw ReplayError.findings(count: 1)
            case true?:
                break
            }
        }
        let report = try Self.repair(plan, snapshots: snapshots, directory: directory)
        if let rows {
            for step in plans {
                let stepSnapshots = step.rebuildsTally ? [] : snapshots
                rows.write(RepairOutput.repaired(report, plan: step, snapshots: stepSnapshots, directory: directory))
            }
        } else {
            for rebuilt in report.rebuiltTallies {
                out.write(
                    "Rebuilt the tally frame of log/\(rebuilt.file); "
                        + "the damaged file is kept as log/\(rebuilt.keptAs).\n"
                )
            }
            let setAside =
                report.setAside.map { "log/" + $0 } + snapshots.map { directory.snapshotFile($0) + ".broken" }
            out.write(
                "Repaired: the log now ends at sequence \(report.lastSequence); set aside: "
                    + (setAside.isEmpty ? "nothing" : setAside.joined(separator: ", ")) + ".\n"
            )
        }
    }

    /// Cuts the log and sets the snapshots after the cut aside.
    private static func repair(
        _ plan: RepairPlan,
        snapshots: [UInt64],
        directory: DataDirectory
    ) throws(ReplayError) -> RepairReport {
        let report: RepairReport
        do {
            report = try EventLogWriter.repair(
                directory: directory.logPath, recordTally: .registryEvents,
                logger: Logger(label: "tunnel-replay.repair", factory: { _ in SwiftLogNoOpLogHandler() }))
        } catch {
            throw .readFailed("repair of '\(directory.logPath)' failed: \(error); nothing after the failure was changed")
        }
        for sequence in snapshots {
            let path = directory.path + "/" + directory.snapshotFile(sequence)
            guard rename(path, path + ".broken") == 0 else {
                throw .readFailed(
                    "the log was cut, but setting '\(path)' aside failed (errno \(errno)): delete it by hand"
                )
            }
        }
        return report
    }

    /// What will be cut, in words: file, offset, sequences, bytes, files set aside.
    static func describe(_ plan: RepairPlan, snapshots: [UInt64], directory: DataDirectory) -> String {
        if plan.rebuildsTally {
            return "Damage: log/\(plan.file) at offset \(plan.offset): \(reason(plan))\n"
                + "Repair will rebuild the segment's tally frame (derived counts) from its records: no record is cut, "
                + "nothing else is set aside; the damaged file is kept as log/\(plan.file).broken\n"
        }
        let cutRange =
            plan.lastCutSequence.map { last in
                last >= plan.firstCutSequence
                    ? "sequences \(plan.firstCutSequence) to \(last) (\(last - plan.firstCutSequence + 1) records)"
                    : "no whole record"
            } ?? "sequences from \(plan.firstCutSequence) on (the end is unreadable)"
        let kept = plan.lastKeptSequence > 0 ? "sequences up to \(plan.lastKeptSequence)" : "no record"
        var lines = [
            "Damage: log/\(plan.file) at offset \(plan.offset): \(plan.reason)",
            "Repair will cut the log there:",
            "  keep:  \(kept)",
            "  cut:   \(cutRange), \(plan.cutBytes) bytes",
            "  set aside as .broken (never deleted): " + plan.setAside.map { "log/" + $0 }.joined(separator: ", "),
        ]
        if plan.offset > 0, plan.lastKeptSequence >= (SegmentFormatName.firstSequence(plan.file) ?? .max) {
            lines.append("  log/\(plan.file) is rewritten with its whole commits before offset \(plan.offset)")
        }
        if !snapshots.isEmpty {
            lines.append(
                "  snapshots after the cut, set aside as .broken: "
                    + snapshots.map { directory.snapshotFile($0) }.joined(separator: ", ")
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The plan's reason; for a tally frame counting its records otherwise, its slots named by
    /// kind (the plan's counts are under `.registryEvents`, scheme 1).
    static func reason(_ plan: RepairPlan) -> String {
        guard !plan.tallyMismatches.isEmpty else { return plan.reason }
        return "the tally frame's counts differ from its records: "
            + plan.tallyMismatches.map {
                "\(TallyCheck.name($0.slot)) counts \($0.tallied) against \($0.records) records"
            }.joined(separator: ", ")
    }

    /// Snapshots whose sequence is past the last kept one.
    static func snapshotsAfter(_ sequence: UInt64, directory: DataDirectory) throws(ReplayError) -> [UInt64] {
        guard DataDirectory.isDirectory(directory.snapshotsPath) else { return [] }
        do {
            return try directory.snapshotStore().sequences().filter { $0 > sequence }
        } catch {
            throw .unreadable("cannot list '\(directory.snapshotsPath)': \(error)")
        }
    }

    /// Asks on stderr and reads one line from stdin: true for y/yes, false for anything else,
    /// nil when stdin has nothing to read.
    static func ask(_ question: String) -> Bool? {
        let prompt = OutputSink(fileDescriptor: 2)
        prompt.write(question + " [y/N] ")
        prompt.flush()
        guard let line = readLine(strippingNewline: true) else { return nil }
        let answer = line.lowercased().filter { $0 != " " }
        return answer == "y" || answer == "yes"
    }
}

/// The first sequence a segment file name declares (`00000000000000000017.seg` → 17).
enum SegmentFormatName {
    static func firstSequence(_ fileName: String) -> UInt64? {
        guard fileName.hasSuffix(".seg") else { return nil }
        return UInt64(fileName.dropLast(4))
    }
}

/// Whether a writer holds `log/LOCK` (the flock the server takes), without creating the file.
enum WriterLockProbe {
    /// nil when no process holds the lock; otherwise a note naming the pid the file records.
    static func holder(logDirectory: String) -> String? {
        let path = logDirectory + "/LOCK"
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) != 0 else {
            flock(descriptor, LOCK_UN)
            return nil
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = read(descriptor, &bytes, bytes.count)
        let pid = count > 0 ? String(decoding: bytes[0..<count], as: UTF8.self).filter(\.isNumber) : ""
        return pid.isEmpty ? "" : " (pid \(pid))"
    }
}
