import ArgumentParser
import EventLog
import Foundation
import Logging
import Registry
import Synchronization
import BenchSupport

/// The benchmark: append with 1 and with 64 appenders (fsync always), seal and rewrite densely,
/// then replay everything; readable lines, then one JSON line.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the reference workload in a temporary directory (the default).")

    @Option(help: "Events in the log (the timed phases, then a bulk fill up to this count).") var events: Int = 410_000
    @Option(help: "Most events the single appender appends.") var singleEvents: Int = 10_000
    @Option(help: "Most events the concurrent appenders append.") var concurrentEvents: Int = 400_000
    @Option(help: "Seconds each timed append phase may take at most.") var phaseSeconds: Double = 8
    @Option(help: "Concurrent appenders of the second phase.") var appenders: Int = 64
    @Option(help: "zstd level of the dense rewrite (default: the configuration's).") var sealedLevel: Int?
    @Option(help: "Directory to write in (default: a new temporary one, removed afterwards).") var dir: String?

    func run() async throws {
        let directory = dir ?? (NSTemporaryDirectory() + "log-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: directory) } }
        var configuration = EventLogConfiguration(directory: directory)
        if let sealedLevel { configuration.sealedCompressionLevel = sealedLevel }
        let logger = Logger(label: "log-bench") { _ in StreamLogHandler.standardError(label: "log-bench") }
        let writer = try await EventLogWriter.open(configuration, logger: logger) {
            Int64(Date().timeIntervalSince1970 * 1_000_000)
        }
        var workload = ReferenceWorkload()
        let all = workload.events(events)
        let plainBytes = all.reduce(0) { $0 + $1.count }
        print(
            "workload: \(all.count) events, \(ReferenceWorkload.connectorCount) connectors, "
                + "\(ReferenceWorkload.tunnelCount) tunnels, \(ReferenceWorkload.nodeCount) nodes, "
                + "\(format(Double(plainBytes) / Double(all.count), 1)) plain bytes/event")
        let probe = try probeFdatasync(directory + "/probe.bin")
        print("disk: \(Int(probe)) fdatasync/s for 100-byte appends (probe; bounds both append figures)")
        let (singleRate, concurrentRate) = try await measureAppends(writer, all)

        let streamBytes = try segmentBytes(directory)
        print(
            "stream form (written live, level \(configuration.compressionLevel)): "
                + "\(format(Double(streamBytes) / Double(all.count), 2)) bytes/event")
        let sealStart = ContinuousClock.now
        try await writer.rotate()
        await writer.waitForSealing()
        try await writer.close()
        let sealSeconds = seconds(ContinuousClock.now - sealStart)
        let denseBytes = try segmentBytes(directory)
        let bytesPerEvent = Double(denseBytes) / Double(all.count)
        print(
            "dense form (after sealing, level \(configuration.sealedCompressionLevel), \(format(sealSeconds, 1)) s): "
                + "\(format(bytesPerEvent, 2)) bytes/event, \(denseBytes) bytes")

        let paced = try await measurePacedBytes(directory + "-paced", events: min(events, 100_000))
        print("dense form, one event per commit at the registry's real pace: \(format(paced, 2)) bytes/event")

        let (replayRate, replayed) = try measureReplay(directory)
        guard replayed == all.count else { throw ValidationError("replayed \(replayed) events, appended \(all.count)") }
        print("replay (read + checksum + decompress): \(Int(replayRate)) events/s")
        print(
            "{\"append_events_per_s_1\": \(Int(singleRate)), \"append_events_per_s_64\": \(Int(concurrentRate)), "
                + "\"bytes_per_event\": \(format(bytesPerEvent, 3)), \"replay_events_per_s\": \(Int(replayRate))}")
    }

    /// The two timed phases, then a bulk fill so the log always holds all `events`.
    private func measureAppends(_ writer: EventLogWriter, _ all: [[UInt8]]) async throws -> (Double, Double) {
        let single = Array(all[0..<min(singleEvents, all.count)])
        let (singleRate, singleDone) = try await measureSingle(writer, single)
        let afterSingle = writer.statistics
        let singleCommitMs = Double(afterSingle.commitNanoseconds) / Double(max(afterSingle.commits, 1)) / 1e6
        print(
            "append, 1 appender, fsync always: \(Int(singleRate)) events/s "
                + "(\(singleDone) events, \(format(singleCommitMs, 3)) ms per commit)")

        let concurrent = Array(all[singleDone..<min(singleDone + concurrentEvents, all.count)])
        let (concurrentRate, concurrentDone) = try await measureConcurrent(writer, concurrent)
        let afterConcurrent = writer.statistics
        let commits = max(afterConcurrent.commits - afterSingle.commits, 1)
        let commitMs = Double(afterConcurrent.commitNanoseconds - afterSingle.commitNanoseconds) / Double(commits) / 1e6
        print(
            "append, \(appenders) appenders, fsync always: \(Int(concurrentRate)) events/s (\(concurrentDone) events, "
                + "\(format(Double(concurrentDone) / Double(commits), 1)) records per commit, "
                + "\(format(commitMs, 3)) ms per commit)")

        var filled = singleDone + concurrentDone
        while filled < all.count {
            let end = min(filled + 2_000, all.count)
            _ = try await writer.append(contentsOf: Array(all[filled..<end]))
            filled = end
        }
        return (singleRate, concurrentRate)
    }

    /// Appends one at a time for at most `phaseSeconds`; returns the rate and how many were appended.
    private func measureSingle(_ writer: EventLogWriter, _ events: [[UInt8]]) async throws -> (Double, Int) {
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(phaseSeconds * 1000))
        var done = 0
        while done < events.count && (done % 64 != 0 || ContinuousClock.now < deadline) {
            _ = try await writer.append(events[done])
            done += 1
        }
        return (Double(done) / seconds(ContinuousClock.now - start), done)
    }

    /// `appenders` tasks append their share, each stopping at `phaseSeconds`; the prefix of
    /// `events` they did not reach is not appended, so the caller fills from the count returned.
    private func measureConcurrent(_ writer: EventLogWriter, _ events: [[UInt8]]) async throws -> (Double, Int) {
        let appenders = self.appenders
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(phaseSeconds * 1000))
        let next = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<appenders {
                group.addTask {
                    while ContinuousClock.now < deadline, let index = next.take(below: events.count) {
                        _ = try await writer.append(events[index])
                    }
                }
            }
            try await group.waitForAll()
        }
        let done = next.value(below: events.count)
        return (Double(done) / seconds(ContinuousClock.now - start), done)
    }

    /// Bytes per event when every event is its own commit, 7.5 ms apart on average (2,000
    /// connectors renewing every 15 s), as a registry at its real pace writes; fsync never and an
    /// injected clock, so it takes a second. Each commit then pays its time delta in the dense form.
    private func measurePacedBytes(_ directory: String, events: Int) async throws -> Double {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = EventLogConfiguration(directory: directory)
        configuration.fsync = .never
        if let sealedLevel { configuration.sealedCompressionLevel = sealedLevel }
        let clock = PacedClock()
        let writer = try await EventLogWriter.open(configuration, logger: Logger(label: "log-bench.paced")) {
            clock.tick()
        }
        var workload = ReferenceWorkload(seed: 0xFACE)
        for event in workload.events(events) { _ = try await writer.append(event) }
        try await writer.rotate()
        await writer.waitForSealing()
        try await writer.close()
        return Double(try segmentBytes(directory)) / Double(events)
    }

    /// Appends 100 bytes and fdatasyncs, for at most 1 s or 2,000 times: the disk's commit rate.
    private func probeFdatasync(_ path: String) throws -> Double {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ValidationError("cannot create \(path): errno \(errno)") }
        defer {
            close(fd)
            unlink(path)
        }
        let bytes = [UInt8](repeating: 0x2A, count: 100)
        let start = ContinuousClock.now
        var count = 0
        while count < 2_000 && ContinuousClock.now - start < .seconds(1) {
            _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, 100, off_t(count * 100)) }
            fdatasync(fd)
            count += 1
        }
        return Double(count) / seconds(ContinuousClock.now - start)
    }

    /// Reads the whole log three times; the best pass (the first also warms the page cache).
    private func measureReplay(_ directory: String) throws -> (Double, Int) {
        var best = 0.0
        var count = 0
        for _ in 0..<3 {
            let start = ContinuousClock.now
            var cursor = try EventLogReader(directory: directory).cursor(fromSequence: 1)
            count = 0
            var bytes = 0
            while let record = try cursor.next() {
                count += 1
                bytes &+= record.payload.count
            }
            best = max(best, Double(count) / seconds(ContinuousClock.now - start))
        }
        return (best, count)
    }

    private func segmentBytes(_ directory: String) throws -> Int {
        try EventLogReader(directory: directory).segments().reduce(0) { $0 + $1.bytes }
    }
}

/// A clock that advances 7.5 ms ± 5 ms per reading (deterministic).
final class PacedClock: Sendable {
    private let state = Mutex((now: Int64(1_800_000_000_000_000), random: SplitMix64(seed: 42)))

    func tick() -> Int64 {
        state.withLock { state in
            state.now += 2_500 + Int64(state.random.next() % 10_001)
            return state.now
        }
    }
}

/// Hands out indexes 0, 1, 2, ... to concurrent appenders, so the appended events are a prefix.
final class Counter: Sendable {
    private let next = Mutex(0)

    func take(below limit: Int) -> Int? {
        next.withLock { value in
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }

    func value(below limit: Int) -> Int {
        next.withLock { min($0, limit) }
    }
}

