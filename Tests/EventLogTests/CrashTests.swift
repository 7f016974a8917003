import EventLog
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real process killed with SIGKILL while appending loses no acknowledged record.
@Suite struct CrashTests {
    /// The `log-bench` executable built beside this test binary.
    static func logBenchPath() -> String? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
        ]
        return candidates.map { $0.appendingPathComponent("log-bench").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Kills a child that appends in a loop after it printed some acknowledgements; after
    /// reopening, every printed sequence is in the log, and appends continue the sequence.
    @Test(arguments: [0, 1])
    func sigkillLosesNoAcknowledgedRecord(round: Int) async throws {
        let executable = try #require(Self.logBenchPath(), "log-bench must be built beside the tests")
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = ["crash-child", "--dir", directory.path, "--appenders", "4"]
        let output = Pipe()
        // Close-on-exec, so the child of the other round does not inherit the write end and
        // hold back this pipe's EOF.
        for fd in [output.fileHandleForReading.fileDescriptor, output.fileHandleForWriting.fileDescriptor] {
            _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        }
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        try child.run()

        var text = ""
        let wanted = 300 + round * 700
        let deadline = ContinuousClock.now + .seconds(120)
        while text.split(separator: "\n").count < wanted && ContinuousClock.now < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(child.terminationReason == .uncaughtSignal)

        let acknowledged = text.split(separator: "\n").compactMap { line -> UInt64? in
            guard line.hasPrefix("ACK ") else { return nil }
            return UInt64(line.dropFirst(4))
        }
        #expect(acknowledged.count >= wanted)
        let writer = try await EventLogWriter.open(
            EventLogConfiguration(directory: directory.path), logger: quietLogger, clock: ManualClock().function)
        let last = writer.lastSequence
        #expect(try await writer.append(Array("after".utf8)).sequence == last + 1)
        try await writer.close()
        let records = try readAll(directory.path)
        #expect(records.map(\.sequence) == Array(1...(last + 1)))
        let present = Set(records.map(\.sequence))
        let missing = acknowledged.filter { !present.contains($0) }
        #expect(missing.isEmpty, "acknowledged but missing: \(missing.prefix(10))")
        for record in records.dropLast() {
            #expect(String(decoding: record.payload, as: UTF8.self).hasPrefix("child-"))
        }
    }
}
