import Registry
import Testing

@testable import tunnel_replay

/// Sessions of a log folded in time pieces and stitched are the sessions of one fold.
@Suite struct SessionStitchTests {
    /// A random history of a few leases: registers (moving node and address), renews (some from
    /// another node, some late enough to revive an unswept lapse), expiries, deregisters, starts
    /// and stalls (one shortening the TTL).
    static func history(seed: UInt64, count: Int) -> [RegistryEvent] {
        var random = seed
        func next(_ bound: Int) -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((random >> 33) % UInt64(bound))
        }
        var script = EventScript()
        var time = 0.0
        for _ in 0..<count {
            time += Double(1 + next(30))
            let id = "c\(next(3))-\(String(repeating: "x", count: 14))"
            let name = "tunnel-\(next(2))"
            let node = "n\(next(2))"
            switch next(20) {
            case 0..<3: script.add(.register, id, name, node: node, at: time, address: "10.0.0.\(next(4)):80")
            case 3..<13: script.add(.renew, id, name, node: node, at: time)
            case 13..<15: script.add(.deregister, id, name, at: time)
            case 15..<18: script.add(.expire, id, name, at: time, lapsedAt: time - Double(next(5)))
            case 18: script.add(.start, "", "", at: time)
            default: script.add(.stall, "", "", at: time)
            }
        }
        return script.events
    }

    /// The events folded as consecutive pieces split before each index of `boundaries`.
    static func stitched(_ events: [RegistryEvent], boundaries: [Int]) -> [Session] {
        var results: [SessionPieceResult] = []
        var projection = Projection()
        var start = 0
        for end in boundaries + [events.count] {
            var tracker = start == 0 ? SessionTracker() : SessionTracker(continuing: projection, at: 0, name: nil)
            for event in events[start..<end] {
                tracker.apply(event)
                projection.apply(event)
            }
            results.append(tracker.pieceResult())
            start = end
        }
        return SessionQuery.stitch(results)
    }

    // Proves every split of random histories into two and three pieces stitches to the sessions
    // one fold finds: the same starts, ends, end reasons, renews, longest gaps and fields, across
    // lapses, revives, re-registers and node moves that straddle a boundary.
    @Test func everySplitMatchesOneFold() {
        for seed in UInt64(1)...12 {
            let events = Self.history(seed: seed, count: 160)
            let whole = SessionTracker.sessions(of: events)
            #expect(whole.contains { $0.end == .expire } && whole.contains { $0.end == .deregister })
            for split in 1..<events.count {
                #expect(Self.stitched(events, boundaries: [split]) == whole, "seed \(seed), split at \(split)")
            }
            for first in stride(from: 7, to: events.count, by: 23) {
                for second in stride(from: first + 1, to: events.count, by: 17) {
                    #expect(
                        Self.stitched(events, boundaries: [first, second]) == whole,
                        "seed \(seed), \(first) \(second)"
                    )
                }
            }
        }
    }

    // Proves the pieces begin at snapshots at or after --since and at or before --until with equal
    // work each (records before --since cheaper, counts at --since and --until estimated from the
    // snapshots' times): at the snapshot after a share's end, or at one before it when cheaper,
    // tracking from past that end; and that a range no snapshot splits is not split.
    @Test func piecesStartAtSnapshotsInsideTheRange() {
        let snapshots = (1...10).map { SnapshotPoint(sequence: UInt64($0) * 100, timeMicroseconds: Int64($0) * 1_000) }
        let pieces = SessionQuery.pieces(
            snapshots: snapshots,
            start: 300,
            lastSequence: 1_000,
            since: 3_500,
            until: 9_000,
            threads: 2
        )
        #expect(
            pieces == [
                SessionPiece(snapshot: 300, trackFromSequence: 301, trackFromTime: 3_500, last: 608),
                SessionPiece(snapshot: 600, trackFromSequence: 609, trackFromTime: nil, last: nil),
            ]
        )
        let three = SessionQuery.pieces(
            snapshots: snapshots,
            start: 0,
            lastSequence: 1_000,
            since: nil,
            until: nil,
            threads: 3
        )
        #expect(three?.map(\.snapshot) == [0, 300, 700])
        #expect(three?.map(\.trackFromSequence) == [1, 356, 701])
        #expect(SessionQuery.estimatedSequence(at: 4_250, snapshots: snapshots) == 425)
        #expect(SessionQuery.estimatedSequence(at: 10_000, snapshots: snapshots) == nil)
        #expect(
            SessionQuery.pieces(
                snapshots: snapshots,
                start: 300,
                lastSequence: 1_000,
                since: 3_500,
                until: 3_900,
                threads: 2
            )
                == nil
        )
        // One thread: one piece over the whole range, from the snapshot given, tracking from `since`.
        #expect(
            SessionQuery.pieces(snapshots: snapshots, start: 0, lastSequence: 1_000, since: nil, until: nil, threads: 1)
                == [SessionPiece(snapshot: 0, trackFromSequence: 1, trackFromTime: nil, last: nil)]
        )
        #expect(
            SessionQuery.pieces(
                snapshots: snapshots, start: 300, lastSequence: 1_000, since: 3_500, until: 3_900, threads: 1)
                == [SessionPiece(snapshot: 300, trackFromSequence: 301, trackFromTime: 3_500, last: nil)]
        )
    }
}
