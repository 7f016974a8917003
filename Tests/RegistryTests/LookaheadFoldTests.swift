import EventLog
import FileStore
import Foundation
import Testing

@testable import Registry

/// The fold at open (`Registry.fold` without `applied`: payloads read in place, folded through a
/// `LookaheadFold`) against the plain fold of each decoded record.
@Suite struct LookaheadFoldTests {
    /// A log that exercises every kind of record: registers over many names (ids short and long,
    /// names not ASCII, a name of 200 bytes whose length takes two varint bytes, an address long
    /// enough that the record is not held in the ring), renews of live, lapsed and unknown
    /// leases, deregisters, expires that apply and that are ignored, start and stall.
    static func records(count: Int, seed: UInt64 = 3) -> [RegistryEvent] {
        var random = SplitMix64(seed: seed)
        var events: [RegistryEvent] = []
        var time = 1_000.0
        func add(_ kind: EventKind, _ index: Int, lapsedAt: Int64? = nil, ttl: Int64? = nil) {
            let name: String
            switch index % 7 {
            case 0: name = "tünnel-\(index % 11)"
            case 1: name = String(repeating: "n", count: 200)
            default: name = "tunnel-\(index % 13)"
            }
            let id = index % 3 == 0 ? "connector-with-a-long-id-\(index)" : "c\(index)"
            let address = index % 50 == 0 ? String(repeating: "a", count: 600) : "10.0.\(index % 9).1:80"
            events.append(
                event(
                    UInt64(events.count + 1), at: time, kind, id: id, name: name, node: "node-\(index % 5)",
                    network: index % 4 == 0 ? "udp" : "tcp", address: address, lapsedAt: lapsedAt, ttl: ttl))
        }
        for index in 0..<count {
            time += 0.01
            let target = Int(random.next() % UInt64(max(1, count / 2)))
            switch random.next() % 20 {
            case 0..<6: add(.register, index)
            case 6..<14: add(.renew, target)
            case 14: add(.deregister, target)
            case 15, 16: add(.expire, target, lapsedAt: Int64(time * 1_000_000) - Int64(random.next() % 90_000_000))
            case 17: add(.start, 0, ttl: micros(30))
            case 18: add(.stall, 0, ttl: micros(45))
            default: time += 20
            }
        }
        return events
    }

    /// The plain fold: each record decoded and applied in turn.
    static func plainFold(_ records: [StoreRecord], into projection: inout Projection) throws {
        for record in records where record.sequence > projection.lastSequence {
            projection.apply(try EventCodec.decode(record))
        }
    }

    static func store(_ events: [RegistryEvent]) async throws -> InMemoryEventStore {
        let store = InMemoryEventStore(clock: { 0 })
        for event in events { _ = try await store.append([EventCodec.encode(event)]) }
        return store
    }

    // Proves the lookahead fold gives the projection the plain fold gives, from empty and from a
    // projection that already holds the first part of the log (as after a snapshot).
    @Test func equalsThePlainFold() async throws {
        let events = Self.records(count: 6_000)
        let store = try await Self.store(events)
        let records = store.records
        for start in [0, 1, 2_345] {
            var plain = Projection()
            try Self.plainFold(Array(records.prefix(start)), into: &plain)
            var lookahead = plain
            try Self.plainFold(records, into: &plain)
            try await Registry.fold(store: store, into: &lookahead, logger: quietLogger)
            #expect(lookahead.lastSequence == UInt64(records.count))
            #expect(lookahead == plain)
            #expect(lookahead.liveServices(at: 0) == plain.liveServices(at: 0))
        }
    }

    // Proves a record that does not decode stops the lookahead fold there: it throws, and the
    // projection holds exactly the records before it, as the plain fold does.
    @Test func undecodableRecordStopsTheFoldThere() async throws {
        let events = Self.records(count: 500)
        let store = InMemoryEventStore(clock: { 0 })
        for (index, event) in events.enumerated() {
            _ = try await store.append([index == 300 ? [9, 9, 9] : EventCodec.encode(event)])
        }
        var lookahead = Projection()
        await #expect(throws: EventDecodingError.self) {
            try await Registry.fold(store: store, into: &lookahead, logger: quietLogger)
        }
        var plain = Projection()
        try Self.plainFold(Array(store.records.prefix(300)), into: &plain)
        #expect(lookahead.lastSequence == 300)
        #expect(lookahead == plain)
    }

    // Proves the local log's first read after open (records kept from its recovery, read in
    // place) yields the records the files hold, that records appended after open follow them,
    // and that a read from before the kept records reads the files.
    @Test func localLogReadsItsRecoveredTail() async throws {
        let (directory, configuration, expected) = try await Self.writtenLog(records: 2_000)
        defer { directory.remove() }
        #expect(expected.count == Self.records(count: 2_000).count)

        let store = try await EventLogStore.open(
            configuration, logger: quietLogger, retainingRecordsFrom: 1_500, clock: { 2_000 })
        _ = try await store.append([EventCodec.encode(event(2_001, at: 3_000, .register, id: "late"))])
        let all = try Self.fileRecords(configuration.directory)
        var fromTail: [StoreRecord] = []
        try await store.read(fromSequence: 1_500) { fromTail.append($0) }
        #expect(fromTail == Array(all.dropFirst(1_499)))
        var again: [StoreRecord] = []
        try await store.readPayloads(fromSequence: 2) { again.append(StoreRecord(sequence: $0, timeMicroseconds: $1, payload: Array($2))) }
        #expect(again == Array(all.dropFirst(1)))
        try await store.close()

        let early = try await EventLogStore.open(
            configuration, logger: quietLogger, retainingRecordsFrom: 1_500, clock: { 2_000 })
        var fromStart: [StoreRecord] = []
        try await early.read(fromSequence: 1_000) { fromStart.append($0) }
        #expect(fromStart == Array(all.dropFirst(999)))
        try await early.close()
    }

    // Proves the kept records are what the first read returns (the files are not read again):
    // with the segment removed after open, the read still yields every record from its start.
    @Test func firstReadTakesTheKeptRecords() async throws {
        let (directory, configuration, expected) = try await Self.writtenLog(records: 300)
        defer { directory.remove() }
        let store = try await EventLogStore.open(
            configuration, logger: quietLogger, retainingRecordsFrom: 100, clock: { 2_000 })
        for name in try FileManager.default.contentsOfDirectory(atPath: configuration.directory)
        where name.hasSuffix(".seg") {
            try FileManager.default.removeItem(atPath: configuration.directory + "/" + name)
        }
        var read: [StoreRecord] = []
        try await store.read(fromSequence: 100) { read.append($0) }
        #expect(read == Array(expected.dropFirst(99)))
        try await store.close()
    }

    // Proves a ring that borrows payloads (`hold(sequence:time:borrowing:)`) hands back each
    // record's own bytes, in order, when it is drained in a batch's `whileValid` (no copy is
    // made: the payload it returns is the batch's), and that `whileValid` runs after a stopped batch.
    @Test func borrowingRingDrainedWhileBatchIsValid() async throws {
        let (directory, configuration, expected) = try await Self.writtenLog(records: 3_000)
        defer { withExtendedLifetime(directory) {} }
        var cursor = try EventLogReader(directory: configuration.directory).cursor(fromSequence: 1)
        var ring = LookaheadRing()
        var borrowed: [UnsafeRawPointer?] = []
        var folded: [StoreRecord] = []
        func foldOldest() {
            let record = ring.oldestRecord
            let payload = ring.oldestPayload
            #expect(payload.baseAddress == borrowed.removeFirst())
            folded.append(StoreRecord(sequence: record.sequence, timeMicroseconds: record.time, payload: Array(payload)))
            ring.dropOldest()
        }
        var ends = 0
        while let batch = try cursor.nextBatch() {
            batch.forEach(
                { sequence, time, payload in
                    if ring.isFull { foldOldest() }
                    ring.hold(sequence: sequence, time: time, borrowing: payload, hashKey: .process)
                    borrowed.append(payload.baseAddress)
                    return true
                },
                whileValid: {
                    ends += 1
                    while ring.held > 0 { foldOldest() }
                })
        }
        #expect(ends > 0)
        #expect(folded == expected)
        var stopped = try EventLogReader(directory: configuration.directory).cursor(fromSequence: 1)
        var endsAfterStop = 0
        let more = try #require(try stopped.nextBatch()).forEach({ _, _, _ in false }, whileValid: { endsAfterStop += 1 })
        #expect(!more && endsAfterStop == 1)
    }

    /// A local log of `records` records (`records(count:)`) in a new directory, its configuration
    /// and the records as its files hold them.
    static func writtenLog(records count: Int) async throws
        -> (TemporaryDirectory, EventLogConfiguration, [StoreRecord])
    {
        let directory = try TemporaryDirectory()
        var configuration = EventLogConfiguration(directory: directory.path + "/log")
        configuration.fsync = .never
        let writer = try await EventLogWriter.open(configuration, logger: quietLogger, clock: { 1_000 })
        for event in records(count: count) { _ = try await writer.append(EventCodec.encode(event)) }
        try await writer.close()
        return (directory, configuration, try fileRecords(configuration.directory))
    }

    /// Every record of the log in `directory`, read by a cursor.
    static func fileRecords(_ directory: String) throws -> [StoreRecord] {
        var cursor = try EventLogReader(directory: directory).cursor(fromSequence: 1)
        var records: [StoreRecord] = []
        while let record = try cursor.next() {
            records.append(
                StoreRecord(sequence: record.sequence, timeMicroseconds: record.timestampMicroseconds, payload: record.payload))
        }
        return records
    }
}
