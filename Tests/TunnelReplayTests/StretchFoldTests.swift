import FileStore
import Foundation
import Registry
import Testing

@testable import tunnel_replay

/// `verify`'s stretch fold holds records back to prefetch their leases; it must fold exactly
/// what the log holds, in order, and report a record that does not decode.
@Suite struct StretchFoldTests {
    // Proves the fold through the lookahead equals folding each event in turn, over random
    // records with payloads too long to hold among them, and counts every record.
    @Test func foldsWhatAPlainFoldFolds() throws {
        let events = Self.events(count: 3_000)
        var stretch = try Self.stretch()
        var plain = Projection()
        for event in events {
            plain.apply(event)
            EventCodec.encode(event).withUnsafeBytes {
                stretch.take(sequence: event.sequence, time: event.timeMicroseconds, payload: $0)
            }
        }
        stretch.flush()
        #expect(stretch.projection == plain)
        #expect(stretch.outcome.records == events.count)
        #expect(stretch.outcome.problems.isEmpty, "\(stretch.outcome.problems)")
        #expect(stretch.projection.snapshotBytes() == plain.snapshotBytes())
    }

    // Proves a record whose payload does not decode is reported with its sequence and the
    // codec's reason, and that records missing from the sequence are reported too.
    @Test func reportsARecordThatDoesNotDecodeAndAGap() throws {
        let events = Self.events(count: 200)
        var stretch = try Self.stretch()
        for event in events where event.sequence != 150 {
            var payload = EventCodec.encode(event)
            if event.sequence == 100 { payload[1] = 0xEE }
            payload.withUnsafeBytes { stretch.take(sequence: event.sequence, time: event.timeMicroseconds, payload: $0) }
        }
        stretch.flush()
        let problems = stretch.outcome.problems
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.first?.sequence == 100 && problems.first?.problem.contains("unknown event kind") == true)
        #expect(problems.last?.sequence == 151 && problems.last?.problem.contains("records are missing") == true)
        #expect(stretch.broken)
    }

    static func stretch(
        firstCounted: UInt64 = 1, kinds: SegmentKindCounts = .init(lastSequences: [])
    ) throws -> StretchFold {
        let path = try ToolRunner.temporaryDirectory().appendingPathComponent("stretch").path
        try FileManager.default.createDirectory(atPath: path + "/log", withIntermediateDirectories: true)
        return StretchFold(
            projection: Projection(), firstCounted: firstCounted, inside: [],
            store: SnapshotStore(directory: path + "/snapshots"), directory: try DataDirectory(path: path),
            reader: SnapshotBodyReader(), kinds: kinds)
    }

    /// Registers, renews, expiries and deregisters over 50 connectors; every 97th record carries
    /// a node name too long for the lookahead to hold.
    static func events(count: Int) -> [RegistryEvent] {
        var random = SplitMix64(seed: 5)
        let kinds: [EventKind] = [.register, .renew, .renew, .renew, .renew, .expire, .deregister]
        return (1...UInt64(count)).map { sequence in
            let kind = sequence == 1 ? .start : kinds[Int(random.next() % UInt64(kinds.count))]
            let connector = random.next() % 50
            let node = sequence % 97 == 0 ? String(repeating: "n", count: 700) : "node-\(connector % 7)"
            return RegistryEvent(
                sequence: sequence, timeMicroseconds: Int64(sequence) * 1_000_000, kind: kind,
                service: Service(
                    id: kind == .start ? "" : "connector-\(connector)-0123456789",
                    name: kind == .start ? "" : "tunnel-\(connector % 9)", node: node,
                    network: kind == .register ? "tcp" : "", address: kind == .register ? "10.0.0.1:80" : ""),
                peer: "", lapsedAtMicroseconds: kind == .expire ? Int64(sequence) * 1_000_000 : nil,
                leaseTTLMicroseconds: kind == .start ? 20_000_000 : nil)
        }
    }
}
