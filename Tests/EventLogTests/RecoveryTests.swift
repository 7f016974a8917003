@testable import EventLog
import Foundation
import Testing

/// Recovery at open: torn tails are cut, damage in sealed segments is an error, repair cuts.
@Suite struct RecoveryTests {
    /// Cutting the newest segment at every byte inside its last commit loses only that commit;
    /// the cut bytes are kept as `.broken`, a warning names them, and appends continue the sequence.
    @Test func tornTailAtEveryOffsetOfTheLastCommit() async throws {
        let original = TemporaryDirectory()
        defer { original.cleanup() }
        let clock = ManualClock()
        let writer = try await EventLogWriter.open(
            .small(original.path, segmentBytes: 1 << 20), logger: quietLogger, clock: clock.function)
        for index in 0..<6 { _ = try await writer.append(payload(index)) }
        let lastCommitStart = try EventLogReader(directory: original.path).segments().last!.bytes
        _ = try await writer.append(contentsOf: [payload(6), payload(7)])
        try await writer.close()
        let segment = "00000000000000000001.seg"
        let fullSize = try Files.bytes(original.path + "/" + segment).count
        #expect(fullSize > lastCommitStart + 40)

        for cut in lastCommitStart..<fullSize {
            let copy = try Files.copy(original.path)
            defer { copy.cleanup() }
            try Files.truncate(copy.path + "/" + segment, to: cut)
            let logs = CapturedLogs()
            let reopened = try await EventLogWriter.open(
                .small(copy.path, segmentBytes: 1 << 20), logger: logs.logger, clock: clock.function)
            #expect(reopened.lastSequence == 6, "cut at \(cut)")
            let position = try await reopened.append(payload(100))
            #expect(position.sequence == 7)
            try await reopened.close()
            let records = try readAll(copy.path)
            #expect(records.map(\.payload) == (0..<6).map(payload) + [payload(100)], "cut at \(cut)")
            if cut > lastCommitStart {
                #expect(FileManager.default.fileExists(atPath: copy.path + "/" + segment + ".broken"))
                #expect(logs.all.contains { $0.contains("dropped \(cut - lastCommitStart) bytes") }, "cut at \(cut)")
            }
        }
    }

    /// Garbage after the last whole commit (a half-written frame) is cut the same way.
    @Test func garbageTailIsCut() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        _ = try await writeLog(.small(directory.path, segmentBytes: 1 << 20), count: 5)
        let path = directory.path + "/00000000000000000001.seg"
        try Files.write(try Files.bytes(path) + [0x4C, 0x46, 1, 0, 9, 9, 9], to: path)
        let writer = try await EventLogWriter.open(
            .small(directory.path), logger: quietLogger, clock: ManualClock().function)
        #expect(writer.lastSequence == 5)
        try await writer.close()
        #expect(try readAll(directory.path).count == 5)
    }

    /// Damage in the newest segment followed by whole commits is corruption, not a torn tail: open refuses.
    @Test func damageBeforeWholeCommitsIsNotCut() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        _ = try await writeLog(.small(directory.path, segmentBytes: 1 << 20), count: 5)
        try Files.flipByte(directory.path + "/00000000000000000001.seg", at: 64 + 45)
        await #expect(throws: EventLogError.self) {
            _ = try await EventLogWriter.open(
                .small(directory.path), logger: quietLogger, clock: ManualClock().function)
        }
    }

    /// Where a flip lands in a sealed segment: its header, a frame header, a payload.
    enum FlipTarget: String, CaseIterable, Sendable {
        case segmentHeader, frameHeader, payload

        func offset() -> Int {
            switch self {
            case .segmentHeader: return 20
            case .frameHeader: return 64 + 20
            case .payload: return 64 + 40 + 3
            }
        }
    }

    /// A flipped byte in the header, a frame header or a payload of a sealed segment (stream or
    /// dense form) is reported by verify, refused by open, and thrown by a reading cursor.
    @Test(arguments: FlipTarget.allCases, [false, true])
    func flippedByteInSealedSegmentIsDetected(target: FlipTarget, dense: Bool) async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        var configuration = EventLogConfiguration.small(directory.path, segmentBytes: 4096)
        configuration.rewriteSealedSegments = dense
        _ = try await writeLog(configuration, count: 300)
        let segments = try EventLogReader(directory: directory.path).segments()
        #expect(segments.count >= 3)
        #expect(segments[0].isSealed)
        let damaged = directory.path + "/" + segments[0].fileName
        try Files.flipByte(damaged, at: target.offset())

        let problems = try EventLogReader(directory: directory.path).verify()
        #expect(problems.count == 1)
        guard case .corruptSegment(let file, _, _, _) = problems.first else {
            Issue.record("verify found \(problems)")
            return
        }
        #expect(file == damaged)
        await #expect(throws: EventLogError.self) {
            _ = try await EventLogWriter.open(configuration, logger: quietLogger, clock: ManualClock().function)
        }
        #expect(throws: EventLogError.self) { _ = try readAll(directory.path) }
    }

    /// Repair cuts the log at damage in a sealed segment; the writer then continues from the cut.
    @Test func repairCutsAtDamageAndWriterContinues() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        _ = try await writeLog(.small(directory.path, segmentBytes: 4096), count: 300)
        let segments = try EventLogReader(directory: directory.path).segments()
        #expect(segments.count >= 3)
        let damagedFile = segments[1].fileName
        try Files.flipByte(directory.path + "/" + damagedFile, at: 64 + 40 + 3)

        let logs = CapturedLogs()
        let report = try EventLogWriter.repair(directory: directory.path, logger: logs.logger)
        #expect(report.damage != nil)
        #expect(report.lastSequence == segments[0].lastSequence)
        #expect(report.setAside.count == segments.count - 1)
        #expect(logs.all.contains { $0.contains("repaired") })
        #expect(try EventLogReader(directory: directory.path).verify().isEmpty)

        let writer = try await EventLogWriter.open(
            .small(directory.path), logger: quietLogger, clock: ManualClock().function)
        let position = try await writer.append(payload(999))
        #expect(position.sequence == report.lastSequence + 1)
        try await writer.close()
        let records = try readAll(directory.path)
        #expect(records.map(\.sequence) == Array(1...(report.lastSequence + 1)))
        #expect(records.last?.payload == payload(999))
        #expect(try EventLogWriter.repair(directory: directory.path, logger: quietLogger).damage == nil)
    }
}

/// A failed write (a full disk) fails only its commit and leaves the log consistent.
@Suite struct WriteFailureTests {
    /// The half-written commit is cut off, its appender gets `.io`, and later appends continue
    /// the sequence with no gap (a new zstd frame, since the compressor saw the failed commit).
    @Test func failedWriteIsUndoneAndAppendsContinue() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let writer = try await EventLogWriter.open(
            .small(directory.path, segmentBytes: 1 << 20), logger: quietLogger, clock: ManualClock().function)
        for index in 0..<5 { _ = try await writer.append(payload(index)) }
        writer.injectWriteFailures(1)
        await #expect(throws: EventLogError.self) { _ = try await writer.append(payload(100)) }
        for index in 5..<8 {
            #expect(try await writer.append(payload(index)).sequence == UInt64(index + 1))
        }
        try await writer.close()
        #expect(try readAll(directory.path).map(\.payload) == (0..<8).map(payload))
        #expect(try EventLogReader(directory: directory.path).verify().isEmpty)
        #expect(try Files.names(directory.path).allSatisfy { !$0.hasSuffix(".broken") })
    }
}
