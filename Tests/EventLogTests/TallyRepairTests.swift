import EventLog
import Foundation
import Testing

/// Repair of a damaged tally frame (docs/FORMAT.md "Repair"): a sealed version-2 segment whose
/// only damage is its tally gets the tally rebuilt from its records, byte for byte what was
/// written, instead of the log being cut there; any other damage is still cut.
@Suite struct TallyRepairTests {
    typealias Damage = TallyTests.Damage

    /// A log of 1200 records in several sealed version-2 segments and an active one, with every
    /// file's bytes and every record as written.
    struct Written {
        let directory: TemporaryDirectory
        let sealed: [String]
        let names: [String]
        let bytes: [String: [UInt8]]
        let records: [LogRecord]

        init(_ name: String = #function) async throws {
            directory = TemporaryDirectory(name)
            _ = try await writeLog(TallyTests.configuration(directory.path, tally: TallyTests.tally), count: 1200)
            let segments = try EventLogReader(directory: directory.path).segments()
            sealed = segments.filter(\.isSealed).map(\.fileName)
            names = try Files.names(directory.path)
            var bytes: [String: [UInt8]] = [:]
            for name in names { bytes[name] = try Files.bytes(directory.path + "/" + name) }
            self.bytes = bytes
            records = try readAll(directory.path)
            try #require(sealed.count >= 3 && segments.count > sealed.count, "\(segments)")
            try #require(records.count == 1200)
        }

        func path(_ name: String) -> String { directory.path + "/" + name }

        /// Runs repair with the tally and checks it rebuilt exactly `plan`'s segment `first`:
        /// nothing set aside, every file as written, `original` (its bytes before repair) kept as
        /// `.broken`, every record read back, and nothing left to repair.
        func expectRebuilt(_ first: String, plan: RepairPlan, original: [UInt8]) throws {
            let report = try EventLogWriter.repair(
                directory: directory.path, recordTally: TallyTests.tally, logger: quietLogger)
            #expect(report.damage == plan.damage)
            #expect(report.rebuiltTallies.map(\.file) == [first])
            #expect(report.rebuiltTallies.map(\.keptAs) == [first + ".broken"])
            #expect(report.rebuiltTallies.map(\.damage) == [plan.damage])
            #expect(report.setAside.isEmpty && report.lastSequence == 1200)
            #expect(try Files.names(directory.path) == (names + [first + ".broken"]).sorted())
            for name in names {
                #expect(try Files.bytes(path(name)) == bytes[name], "\(name)")
            }
            #expect(try Files.bytes(path(first + ".broken")) == original)
            #expect(try readAll(directory.path) == records)
            #expect(try EventLogWriter.repairPlans(directory: directory.path, recordTally: TallyTests.tally).isEmpty)
        }
    }

    /// Flips a byte inside the first dense block's payload of `path`: its payload checksum fails.
    static func damageFirstBlock(_ path: String) throws {
        try Files.flipByte(path, at: 64 + 40 + 20)
    }

    // Proves each tally damage open reports (flipped count, wrong sum, frame cut short, frame
    // removed) in the oldest sealed segment is planned and repaired as a tally rebuild: open names
    // the rebuild in its hint, nothing is cut or set aside, the segment comes back byte for byte
    // as written, later files are untouched, the damaged file is kept as .broken, and the log
    // opens and reads every record as before.
    @Test(arguments: Damage.allCases) func damagedTallyIsRebuilt(_ damage: Damage) async throws {
        let log = try await Written("rebuilt\(damage)")
        defer { log.directory.cleanup() }
        let first = log.sealed[0]
        try damage.apply(log.path(first))
        let damaged = try Files.bytes(log.path(first))
        for checksums in [true, false] {
            var configuration = TallyTests.configuration(log.directory.path, tally: TallyTests.tally)
            configuration.checksumSealedSegmentsOnOpen = checksums
            do {
                let writer = try await EventLogWriter.open(
                    configuration, logger: quietLogger, clock: ManualClock().function)
                try await writer.close()
                Issue.record("open with checksums \(checksums) accepted \(damage)")
            } catch {
                guard case .corruptSegment(let file, _, _, let reason) = error as? EventLogError else {
                    Issue.record("\(error)")
                    continue
                }
                #expect(file == log.path(first))
                #expect(reason.contains("run repair to rebuild the tally frame"), "\(reason)")
            }
        }

        let plans = try EventLogWriter.repairPlans(directory: log.directory.path, recordTally: TallyTests.tally)
        #expect(plans.count == 1, "\(plans)")
        let plan = try #require(plans.first)
        #expect(plan.rebuildsTally && plan.action == .rebuildTally && plan.file == first)
        #expect(plan.cutBytes == 0 && plan.setAside.isEmpty && plan.lastCutSequence == nil)
        #expect(plan.lastKeptSequence == 1200)
        #expect(try EventLogWriter.repairPlan(directory: log.directory.path, recordTally: TallyTests.tally) == plan)

        try log.expectRebuilt(first, plan: plan, original: damaged)
        let writer = try await EventLogWriter.open(
            TallyTests.configuration(log.directory.path, tally: TallyTests.tally), logger: quietLogger,
            clock: ManualClock().function)
        try await writer.close()
    }

    // Proves repair goes on after a rebuilt tally: a damaged block in a later sealed segment is
    // still cut there (that segment and every later one set aside), while the rebuilt one keeps
    // every record and its bytes as written.
    @Test func laterDamageIsStillCut() async throws {
        let log = try await Written()
        defer { log.directory.cleanup() }
        let first = log.sealed[0]
        let third = log.sealed[2]
        try Damage.flippedCount.apply(log.path(first))
        try Self.damageFirstBlock(log.path(third))
        let thirdFirstSequence = try #require(UInt64(third.prefix(20)))

        let plans = try EventLogWriter.repairPlans(directory: log.directory.path, recordTally: TallyTests.tally)
        #expect(plans.map(\.action) == [.rebuildTally, .cut], "\(plans)")
        #expect(plans.map(\.file) == [first, third])
        let cutFiles = log.names.filter { $0 >= third && $0.hasSuffix(".seg") }
        #expect(plans.last?.setAside == cutFiles)
        #expect(plans.map(\.lastKeptSequence) == [thirdFirstSequence - 1, thirdFirstSequence - 1])
        #expect(plans.first?.cutBytes == 0 && plans.first?.setAside == [])

        let report = try EventLogWriter.repair(
            directory: log.directory.path, recordTally: TallyTests.tally, logger: quietLogger)
        #expect(report.rebuiltTallies.map(\.file) == [first])
        #expect(report.setAside == cutFiles.map { $0 + ".broken" })
        #expect(report.lastSequence == thirdFirstSequence - 1)
        #expect(try Files.bytes(log.path(first)) == log.bytes[first])
        #expect(try readAll(log.directory.path) == Array(log.records.prefix(Int(thirdFirstSequence - 1))))
    }

    // Proves a damaged block in the same segment as a damaged tally is cut as before: its records
    // are not intact, so the tally cannot be rebuilt; that segment and every later one are set aside.
    @Test func damagedBlockBesideTallyIsCut() async throws {
        let log = try await Written()
        defer { log.directory.cleanup() }
        let first = log.sealed[0]
        try Damage.flippedCount.apply(log.path(first))
        try Self.damageFirstBlock(log.path(first))
        let segments = log.names.filter { $0.hasSuffix(".seg") }

        let plans = try EventLogWriter.repairPlans(directory: log.directory.path, recordTally: TallyTests.tally)
        #expect(plans.map(\.action) == [.cut] && plans.first?.file == first, "\(plans)")
        #expect(plans.first?.setAside == segments && plans.first?.lastKeptSequence == 0)
        let report = try EventLogWriter.repair(
            directory: log.directory.path, recordTally: TallyTests.tally, logger: quietLogger)
        #expect(report.rebuiltTallies.isEmpty)
        #expect(report.setAside == segments.map { $0 + ".broken" })
        #expect(try readAll(log.directory.path).isEmpty)
    }

    // Proves that without a tally, or with one of another scheme than the damaged frame's, repair
    // cuts at a damaged tally as before: every later segment leaves the log.
    @Test func withoutTheTallyRepairCuts() async throws {
        let log = try await Written()
        defer { log.directory.cleanup() }
        let first = log.sealed[0]
        try Damage.sumDisagrees.apply(log.path(first))
        let segments = log.names.filter { $0.hasSuffix(".seg") }
        let otherScheme = RecordTally(scheme: TallyTests.tally.scheme + 1, classify: TallyTests.tally.classify)
        for tally in [nil, otherScheme] {
            let plans = try EventLogWriter.repairPlans(directory: log.directory.path, recordTally: tally)
            #expect(plans.map(\.action) == [.cut] && plans.first?.setAside == segments, "\(plans)")
        }
        // Today's cut keeps the damaged segment's records (rewritten unsealed) and sets every later one aside.
        let kept = Int(try #require(UInt64(log.sealed[1].prefix(20)))) - 1
        let report = try EventLogWriter.repair(directory: log.directory.path, logger: quietLogger)
        #expect(report.rebuiltTallies.isEmpty)
        #expect(report.setAside == segments.map { $0 + ".broken" })
        #expect(report.lastSequence == UInt64(kept))
        #expect(try readAll(log.directory.path) == Array(log.records.prefix(kept)))
    }
}
