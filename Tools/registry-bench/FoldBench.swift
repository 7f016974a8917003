import BenchSupport
import FileStore
import Registry

/// A log as a running server writes it, generated in memory: `live` connectors (four per tunnel
/// name, 200 nodes) renewing every 15 s, with churn: a connector that dies stops renewing, is
/// expired by the sweeper 46 s after its last renew, and a new one registers in its place; some
/// deregister instead. Payloads are packed in one buffer so the fold reads them as a log reader
/// hands them out (borrowed bytes).
struct FoldLog {
    var bytes: [UInt8] = []
    var offsets: [Int] = [0]
    var times: [Int64] = []

    var count: Int { times.count }

    init(events: Int, live: Int, seed: UInt64 = 11) {
        var random = SplitMix64(seed: seed)
        let nodes = (0..<200).map { index in (random.uuid(), "10.0.\(index / 250).\(index % 250 + 1):8443") }
        var services: [Service] = []
        var serial = 0
        func fresh(slot: Int) -> Service {
            serial += 1
            let node = nodes[Int(random.next() % 200)]
            return Service(
                id: random.uuid(),
                name: "tunnel-\(slot / 4)",
                node: node.0,
                network: slot % 8 == 7 ? "udp" : "tcp",
                address: node.1
            )
        }
        // Each connector renews every 15 s: that fixes the log's pace.
        let step = Int64(15_000_000) / Int64(max(1, live))
        var time = RegistryBench.startMicroseconds
        var dying: [(due: Int64, slot: Int, service: Service, lastRenewSequence: UInt64, lapsedAt: Int64)] = []
        var lastRenew = [UInt64](repeating: 0, count: live)
        var dead = Set<Int>()
        let peer = "10.9.0.1:5000"
        func add(_ kind: EventKind, _ service: Service, extra: (Int64?, UInt64?, Int64?) = (nil, nil, nil)) {
            time += step
            let event = RegistryEvent(
                sequence: 0,
                timeMicroseconds: 0,
                kind: kind,
                service: service,
                peer: kind == .expire || kind == .start ? "" : peer,
                lapsedAtMicroseconds: extra.0,
                leaseTTLMicroseconds: extra.2,
                renewSequence: extra.1
            )
            bytes += EventCodec.encode(event)
            offsets.append(bytes.count)
            times.append(time)
        }
        let empty = Service(id: "", name: "", node: "", network: "", address: "")
        add(.start, empty, extra: (nil, nil, 45_000_000))
        for slot in 0..<live {
            services.append(fresh(slot: slot))
            add(.register, services[slot])
            lastRenew[slot] = UInt64(count)
        }
        while count < events {
            if let first = dying.first, first.due <= time {
                dying.removeFirst()
                add(.expire, first.service, extra: (first.lapsedAt, first.lastRenewSequence, nil))
                services[first.slot] = fresh(slot: first.slot)
                add(.register, services[first.slot])
                lastRenew[first.slot] = UInt64(count)
                dead.remove(first.slot)
                continue
            }
            let slot = Int(random.next() % UInt64(live))
            guard !dead.contains(slot) else { continue }
            let roll = random.next() % 1_000
            var key = services[slot]
            key.network = ""
            key.address = ""
            if roll < 5 {
                // A connector whose tunnel client went away: no more renews, expired later.
                dead.insert(slot)
                dying.append(
                    (time + 46_000_000, slot, services[slot], lastRenew[slot], time + 45_000_000)
                )
            } else if roll < 10 {
                add(.deregister, key)
                services[slot] = fresh(slot: slot)
                add(.register, services[slot])
                lastRenew[slot] = UInt64(count)
            } else {
                add(.renew, key)
                lastRenew[slot] = UInt64(count)
            }
        }
    }

    /// Calls `body` with each record's payload, sequence and time.
    func forEach(_ body: (UnsafeRawBufferPointer, UInt64, Int64) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { all in
            for index in 0..<count {
                let payload = UnsafeRawBufferPointer(rebasing: all[offsets[index]..<offsets[index + 1]])
                try body(payload, UInt64(index + 1), times[index])
            }
        }
    }
}

extension RegistryBench {
    /// Fold rate over a generated log of `count` records (20,000 live connectors): decode only,
    /// decode into `RegistryEvent` then `apply` (what `Registry.open` and `tunnel-replay verify`
    /// did), and `apply(view:)` from the payload in place; medians of 5 runs each.
    static func fold(count: Int) throws {
        let log = FoldLog(events: count, live: 20_000)
        var decodeOnly: [Double] = []
        var decodeApply: [Double] = []
        var viewApply: [Double] = []
        var results: [Projection] = []
        for _ in 0..<5 {
            var started = monotonicNanoseconds()
            var kinds = 0
            try log.forEach { payload, sequence, time in
                kinds &+= Int(try EventCodec.decode(payload, sequence: sequence, time: time).sequence)
            }
            decodeOnly.append(rate(count, monotonicNanoseconds() - started))
            precondition(kinds != 0)

            var projection = Projection()
            started = monotonicNanoseconds()
            try log.forEach { payload, sequence, time in
                projection.apply(try EventCodec.decode(payload, sequence: sequence, time: time))
            }
            decodeApply.append(rate(count, monotonicNanoseconds() - started))
            results.append(projection)

            var viewed = Projection()
            started = monotonicNanoseconds()
            try log.forEach { payload, sequence, time in
                viewed.apply(try EventCodec.view(payload, sequence: sequence), sequence: sequence, time: time)
            }
            viewApply.append(rate(count, monotonicNanoseconds() - started))
            precondition(viewed == projection, "apply(view:) folded another view than apply(event)")
        }
        let live = results[0].liveEntryCount
        print(
            "fold \(count) records (\(live) live at the end): decode \(format(median(decodeOnly), 2)) M/s, "
                + "decode+apply \(format(median(decodeApply), 2)) M/s, apply(view) \(format(median(viewApply), 2)) M/s "
                + "(medians of 5)"
        )
    }

    /// Millions of records per second.
    static func rate(_ count: Int, _ nanoseconds: UInt64) -> Double {
        Double(count) / (Double(nanoseconds) / 1e9) / 1e6
    }
}

extension RegistryBench {
    /// The newest snapshot of data directory `directory`: the whole load (read, checksum,
    /// decompress, decode) and the decode of its raw bytes alone, medians of 5.
    static func load(directory: String) throws {
        let store = SnapshotStore(directory: directory + "/snapshots")
        guard let sequence = try store.sequences().last else {
            print("load: no snapshot in \(directory)/snapshots")
            return
        }
        var loads: [Double] = []
        var decodes: [Double] = []
        var live = 0
        for _ in 0..<5 {
            var started = monotonicNanoseconds()
            let projection = try store.load(sequence: sequence)
            loads.append(milliseconds(monotonicNanoseconds() - started))
            let raw = projection.snapshotBytes()
            started = monotonicNanoseconds()
            let decoded = try Projection(snapshotBytes: raw)
            decodes.append(milliseconds(monotonicNanoseconds() - started))
            live = decoded.liveEntryCount
        }
        print(
            "load snapshot \(sequence) (\(live) live): load \(format(median(loads), 1)) ms, "
                + "decode alone \(format(median(decodes), 1)) ms (medians of 5)"
        )
    }
}
