import EventLog
import FileStore
import Foundation
import Testing

@testable import Registry

/// `--retention` on the local log: the plan (which snapshots cover what) and the passes the
/// registry runs after each snapshot, on a manual clock.
@Suite struct RetentionTests {
    private static let hour: Int64 = 3_600_000_000

    private func info(_ sequence: UInt64, hours: Int64) -> SnapshotInfo {
        SnapshotInfo(sequence: sequence, lastTimeMicroseconds: hours * Self.hour, fileBytes: 100)
    }

    // Proves the plan keeps the newest snapshot at or before the cutoff as the anchor, lets segments
    // go only up to its sequence, drops older snapshots and thins the rest to one per retention / 8.
    @Test func planAnchorsAtCutoffAndThins() {
        let snapshots = (0..<48).map { info(UInt64($0 * 100 + 100), hours: Int64($0)) }
        let plan = RetentionPlan(
            snapshots: snapshots, retentionMicroseconds: 16 * Self.hour, nowMicroseconds: 47 * Self.hour,
            keepNewest: 3)
        #expect(plan.anchor?.sequence == 3200)
        #expect(plan.segmentsThroughSequence == 3200)
        #expect(plan.cutoffMicroseconds == 31 * Self.hour)
        let kept = Set(snapshots.map(\.sequence)).subtracting(plan.snapshotsToDelete).sorted()
        #expect(kept.first == 3200)
        #expect(kept.suffix(3) == [4600, 4700, 4800])
        // Spacing is 2 h: 31, 33, ..., 43 h, then the newest three.
        #expect(kept == [3200, 3400, 3600, 3800, 4000, 4200, 4400, 4600, 4700, 4800])
        // Applying the plan again later keeps the chain stable.
        let again = RetentionPlan(
            snapshots: snapshots.filter { kept.contains($0.sequence) }, retentionMicroseconds: 16 * Self.hour,
            nowMicroseconds: 47 * Self.hour, keepNewest: 3)
        #expect(again.snapshotsToDelete.isEmpty)
    }

    // Proves nothing is removable while no snapshot is as old as the cutoff, and the newest
    // snapshots are kept even when older than the cutoff.
    @Test func planWithoutAnchorRemovesNothing() {
        let young = RetentionPlan(
            snapshots: [info(10, hours: 5), info(20, hours: 6)], retentionMicroseconds: 10 * Self.hour,
            nowMicroseconds: 7 * Self.hour, keepNewest: 3)
        #expect(young.anchor == nil && young.segmentsThroughSequence == nil && young.snapshotsToDelete.isEmpty)
        let old = RetentionPlan(
            snapshots: [info(10, hours: 1), info(20, hours: 2)], retentionMicroseconds: Self.hour,
            nowMicroseconds: 100 * Self.hour, keepNewest: 1)
        #expect(old.anchor?.sequence == 20)
        #expect(old.snapshotsToDelete == [10])
    }

    // Proves a registry with a 6 h retention, snapshotting hourly for 24 h, removes the old
    // segments and snapshots, keeps state answerable for every hour inside the retained span and
    // refuses hours before it, still starts, and fails to start naming the cause when the
    // snapshots covering the log's start are gone.
    @Test func registryRemovesHistoryOutsideRetention() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        var configuration = RegistryConfiguration(dataDirectory: directory.path)
        configuration.clock = clock.closure
        configuration.randomSeed = 3
        let options = LocalLogOptions(segmentBytesMax: 4096, retentionMicroseconds: 6 * Self.hour)
        var registry = try await Registry.open(configuration, localLog: options, logger: quietLogger)
        var probes: [(time: Int64, ids: Set<String>)] = []
        for hour in 0..<24 {
            clock.advance(seconds: 3600)
            // Deregistered rather than left to expire: a sweep an hour late logs a stall, which
            // extends every lease.
            for id in probes.last?.ids ?? [] {
                try await registry.deregister(id: id, name: "tunnel", node: "node-1", peer: peerV4)
            }
            var ids: Set<String> = []
            for index in 0..<20 {
                let id = "connector-\(hour)-\(index)-" + String(repeating: "x", count: 40)
                try await registry.register(service(id, name: "tunnel"), peer: peerV4)
                ids.insert(id)
            }
            clock.advance(seconds: 1)
            probes.append((clock.now(), ids))
            try await registry.writeSnapshot()
        }
        let now = clock.now()
        try await registry.close()

        let reader = try RegistryLogReader(dataDirectory: directory.path)
        let first = try #require(try reader.log.firstSequence())
        #expect(first > 1)
        let snapshots = try reader.snapshots.sequences()
        #expect(snapshots.count <= 3 + 9 + 1)
        let anchor = try #require(snapshots.first)
        #expect(anchor + 1 >= first)
        let anchorTime = try reader.snapshots.info(sequence: anchor).lastTimeMicroseconds
        #expect(anchorTime <= now - 6 * Self.hour)
        #expect(reader.snapshots.recordedRetention() == "6h")
        for segment in try reader.log.segments().dropLast() {
            #expect(segment.lastTimestampMicroseconds >= anchorTime - Self.hour)
        }
        for probe in probes {
            if probe.time >= anchorTime {
                let projection = try reader.projection(atTime: probe.time)
                let live = Set(projection.liveServices(named: "tunnel", at: probe.time).map(\.service.id))
                #expect(live == probe.ids, "at \(probe.time): \(live.count) live, \(probe.ids.count) expected")
            } else {
                #expect(throws: HistoryRemovedError.self) { try reader.projection(atTime: probe.time) }
            }
        }

        registry = try await Registry.open(configuration, localLog: options, logger: quietLogger)
        #expect(try await registry.get(name: "tunnel").count == 20)
        try await registry.close()

        try FileManager.default.removeItem(atPath: configuration.snapshotDirectory)
        await #expect(throws: HistoryRemovedError.self) {
            _ = try await Registry.open(configuration, localLog: options, logger: quietLogger)
        }
    }
}
