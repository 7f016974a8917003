import FileStore
import Registry

/// The share of the tunnels one fold thread owns. Tunnels are dealt to partitions by a hash of
/// their name, so every lease (name, id) and all its sessions live in exactly one partition;
/// control records (start, stall), which move every lease, go to all of them. Each partition
/// folds its own `Projection`: the fold of a lease depends only on that lease's records and the
/// control records, so the partitions' sessions together are the sessions of the whole log.
struct SessionPartition: Sendable {
    let index: Int
    let count: Int

    /// True when the tunnel named by these UTF-8 bytes belongs to this partition.
    func owns(name: UnsafeRawBufferPointer) -> Bool {
        Int(Self.hash(name) % UInt64(count)) == index
    }

    func owns(name: String) -> Bool {
        var text = name
        return text.withUTF8 { owns(name: UnsafeRawBufferPointer($0)) }
    }

    /// The bytes taken eight at a time, each word multiplied and shifted in (every partition
    /// hashes every record's name: a byte-at-a-time FNV was 4.7% of a `sessions` fold), mixed so
    /// that every bit depends on every byte.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = mix(hash ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            for index in offset..<bytes.count { tail |= UInt64(bytes[index]) << (8 * UInt64(index - offset)) }
            hash = mix(hash ^ tail)
        }
        return (hash &* 0x9E37_79B9_7F4A_7C15) >> 32
    }

    @inline(__always)
    private static func mix(_ word: UInt64) -> UInt64 {
        let product = word &* 0xBF58_476D_1CE4_E5B9
        return product ^ (product >> 29)
    }
}

extension SessionQuery {
    /// The sessions of a data directory's records from `first` on (to `until`), folded on
    /// `ScanThreads.count` threads at once, one partition of the tunnels each
    /// (`SessionPartition`); each thread reads and checks every record itself (decompressing is
    /// cheap next to the fold) and builds events only for its own tunnels. With `since`, `start`
    /// is the projection the records before `since` are folded into, and the leases live at
    /// `since` continue as sessions. Nil when reading the shared log or with one thread.
    static func partitioned(
        _ scan: EventScan,
        from first: UInt64,
        start: Projection,
        seekingTo since: Int64?,
        name: String?,
        until: Int64?
    ) throws(ReplayError) -> [Session]? {
        let threads = ScanThreads.count
        guard scan.reader != nil, threads > 1 else { return nil }
        let jobs = try scan.jobs(fromSequence: first, until: until)
        let total = scan.totalRecords()
        var sessions: [Session] = []
        try scan.runParallel(count: threads) { index in
            try Self.fold(
                SessionPartition(index: index, count: threads), jobs: jobs, scan: scan, start: start, since: since,
                name: name, until: until, progressTotal: index == 0 ? total : nil)
        } consume: { sessions += $0 }
        return sessions.sorted(by: Session.ordered)
    }

    /// One partition's fold over every job, in order.
    private static func fold(
        _ partition: SessionPartition, jobs: [LogJob], scan: EventScan, start: Projection, since: Int64?,
        name: String?, until: Int64?, progressTotal: UInt64?
    ) throws -> [Session] {
        let nameBytes = name.map { Array($0.utf8) }
        var projection = start
        var tracker: SessionTracker? = since == nil ? SessionTracker() : nil
        var progress = progressTotal.map { Progress(label: "scanning", total: $0) }
        defer { progress?.finish() }
        var records = 0
        for job in jobs {
            var reachedUntil = false
            try scan.read(job) { sequence, time, payload in
                if let until, time > until {
                    reachedUntil = true
                    return false
                }
                records += 1
                if records & 0xFFF == 0 { progress?.advance(by: 0x1000) }
                // Another partition's record is left to that partition, which checks it whole.
                if let peeked = Self.peekName(payload), !partition.owns(name: peeked) { return true }
                let view = try EventCodec.view(payload, sequence: sequence)
                if view.kind.isServiceEvent {
                    if let nameBytes, !EventViewFilter.equal(view.name, nameBytes) { return true }
                    guard partition.owns(name: view.name) else { return true }
                }
                if tracker == nil, let since {
                    guard time >= since else {
                        projection.apply(view, sequence: sequence, time: time)
                        return true
                    }
                    tracker = SessionTracker(continuing: projection, at: since, name: name, partition: partition)
                }
                tracker?.fold(view, sequence: sequence, time: time)
                return true
            }
            if reachedUntil { break }
        }
        if let tracker { return tracker.allSessions() }
        return SessionTracker(continuing: projection, at: since ?? 0, name: name, partition: partition).allSessions()
    }

    /// The tunnel name of a service event's payload, read without checking the rest of it
    /// (docs/FORMAT.md: `version kind id name ...`, lengths below 128 in one byte); nil when the
    /// payload is not plainly one, and the full view then reports what is wrong.
    static func peekName(_ payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard payload.count >= 4, payload[0] == EventCodec.version, (1...4).contains(payload[1]) else { return nil }
        let idLength = Int(payload[2])
        let nameStart = 4 + idLength
        guard idLength < 0x80, nameStart <= payload.count else { return nil }
        let nameLength = Int(payload[nameStart - 1])
        guard nameLength < 0x80, nameStart + nameLength <= payload.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: payload[nameStart..<(nameStart + nameLength)])
    }
}
