import CZstd
import EventLog
import FileStore
import Testing

@testable import Registry

@Suite struct EventCodecTests {
    static let samples: [RegistryEvent] = [
        RegistryEvent(
            sequence: 1, timeMicroseconds: 10, kind: .register,
            service: Service(id: "c1", name: "tunnel", node: "n1", network: "tcp", address: "10.0.0.1:80"),
            peer: "10.0.0.1:5000"),
        RegistryEvent(
            sequence: 2, timeMicroseconds: 11, kind: .renew,
            service: Service(id: "c1", name: "gateway@r1", node: "n1", network: "", address: ""), peer: "[::1]:5000"),
        RegistryEvent(
            sequence: 3, timeMicroseconds: 12, kind: .deregister,
            service: Service(id: "ü-✓", name: "名前", node: "n", network: "", address: ""), peer: ""),
        RegistryEvent(
            sequence: 4, timeMicroseconds: 13, kind: .expire,
            service: Service(id: "c1", name: "t", node: "n", network: "udp", address: "[::1]:53"), peer: "",
            lapsedAtMicroseconds: 1_800_000_000_000_000),
        RegistryEvent(
            sequence: 5, timeMicroseconds: 14, kind: .start,
            service: Service(id: "", name: "", node: "", network: "", address: ""),
            peer: "", leaseTTLMicroseconds: 45_000_000),
        RegistryEvent(
            sequence: 6, timeMicroseconds: 15, kind: .stall,
            service: Service(id: "", name: "", node: "", network: "", address: ""),
            peer: "", lapsedAtMicroseconds: -5, leaseTTLMicroseconds: 1),
    ]

    // Proves every kind, with unicode and optional instants, decodes to the event encoded.
    @Test(arguments: samples)
    func roundTrip(_ sample: RegistryEvent) throws {
        let payload = EventCodec.encode(sample)
        let record = StoreRecord(sequence: sample.sequence, timeMicroseconds: sample.timeMicroseconds, payload: payload)
        #expect(try EventCodec.decode(record) == sample)
    }

    // Proves the worked examples of docs/FORMAT.md ("Registry event payload") are the codec's bytes.
    @Test func documentedExamplesMatch() {
        let renew = RegistryEvent(
            sequence: 1, timeMicroseconds: 0, kind: .renew,
            service: Service(id: "c1", name: "t1", node: "n1", network: "", address: ""), peer: "192.0.2.10:40000")
        #expect(
            EventCodec.encode(renew)
                == [0x01, 0x02, 0x02, 0x63, 0x31, 0x02, 0x74, 0x31, 0x02, 0x6E, 0x31, 0x00, 0x00, 0x10]
                + Array("192.0.2.10:40000".utf8) + [0x00])
        let start = RegistryEvent(
            sequence: 1, timeMicroseconds: 0, kind: .start,
            service: Service(id: "", name: "", node: "", network: "", address: ""), peer: "",
            leaseTTLMicroseconds: 45_000_000)
        #expect(
            EventCodec.encode(start) == [0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x95, 0xF5, 0x2A])
    }

    // Proves a payload cut at any length is rejected, never misread (torn or short records).
    @Test func truncatedPayloadsAreRejected() {
        for sample in Self.samples {
            let payload = EventCodec.encode(sample)
            for length in 0..<payload.count {
                let record = StoreRecord(sequence: 9, timeMicroseconds: 0, payload: Array(payload.prefix(length)))
                #expect(throws: EventDecodingError.self) { try EventCodec.decode(record) }
            }
        }
    }

    // Proves each kind of hostile payload is rejected with an error naming the sequence.
    @Test func garbageIsRejected() throws {
        let good = EventCodec.encode(Self.samples[0])
        var unknownVersion = good
        unknownVersion[0] = 99
        var unknownKind = good
        unknownKind[1] = 77
        var badUTF8 = good
        badUTF8[3] = 0xFF  // first byte of the id
        let hugeLength: [UInt8] = [1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        var badFlags = EventCodec.encode(Self.samples[1])
        badFlags[badFlags.count - 1] = 0x80
        let cases: [(String, [UInt8])] = [
            ("unknown version", unknownVersion), ("unknown kind", unknownKind), ("invalid UTF-8", badUTF8),
            ("length beyond limit", hugeLength), ("unknown flags", badFlags), ("trailing bytes", good + [0]),
            ("empty", []),
        ]
        for (what, payload) in cases {
            let record = StoreRecord(sequence: 42, timeMicroseconds: 0, payload: payload)
            let error = #expect(throws: EventDecodingError.self, "\(what)") { try EventCodec.decode(record) }
            #expect(error?.sequence == 42)
        }
    }

    // Proves the one-pass check of ASCII fields reads every payload as reading field by field does:
    // each sample with any one byte replaced (lengths, UTF-8, flags, varints) gives the same event
    // or the same error both ways.
    @Test func oneBytePerturbationsReadAsFieldByField() {
        var generator = RegistryRandom(seed: 3)
        for sample in Self.samples {
            let good = EventCodec.encode(sample)
            for position in good.indices {
                for replacement in [0x00, 0x01, 0x7F, 0x80, 0xC3, 0xFF, UInt8(truncatingIfNeeded: generator.next())] {
                    var payload = good
                    payload[position] = UInt8(replacement)
                    #expect(Self.read(payload, fieldByField: false) == Self.read(payload, fieldByField: true))
                }
            }
        }
    }

    // Proves the inlined view of plain payloads (no optional field, one-byte ASCII fields) takes
    // every such sample and reads it as reading field by field does, and that whatever it accepts
    // among the samples cut short, lengthened by a byte, or with one byte replaced, field by field
    // reads the same (what it refuses, `view` reads by the checks before, as the test above shows).
    @Test func plainViewReadsAsFieldByField() {
        let plain = Self.samples.map(EventCodec.encode).filter { payload in
            payload.allSatisfy { $0 < 0x80 } && payload.last == 0
        }
        #expect(plain.count >= 2)
        var variants: [[UInt8]] = []
        for good in plain {
            #expect(good.withUnsafeBytes { EventCodec.plainView($0) } != nil)
            variants.append(good)
            variants += (0..<good.count).map { Array(good[..<$0]) }
            variants += [0x00, 0x01, 0x41, 0x80].map { good + [$0] }
            for position in good.indices {
                for replacement: UInt8 in [0x00, 0x01, 0x02, 0x07, 0x41, 0x7F, 0x80, 0xFF] {
                    var payload = good
                    payload[position] = replacement
                    variants.append(payload)
                }
            }
        }
        for payload in variants {
            let accepted = payload.withUnsafeBytes { bytes in
                EventCodec.plainView(bytes).map { "\(EventCodec.event($0, sequence: 7, time: 0))" }
            }
            guard let accepted else { continue }
            #expect(accepted == Self.read(payload, fieldByField: true))
        }
    }

    /// The event `payload` holds, or the error it is rejected with, as text.
    static func read(_ payload: [UInt8], fieldByField: Bool) -> String {
        payload.withUnsafeBytes { bytes in
            do {
                let view =
                    fieldByField
                    ? try EventCodec.viewFieldByField(bytes, sequence: 7) : try EventCodec.view(bytes, sequence: 7)
                return "\(EventCodec.event(view, sequence: 7, time: 0))"
            } catch {
                return "\(error)"
            }
        }
    }

    // Proves random bytes never crash the decoder (they decode or throw).
    @Test func randomBytesNeverCrash() {
        var generator = RegistryRandom(seed: 1)
        for _ in 0..<5_000 {
            let length = Int(generator.next() % 80)
            var payload = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if payload.count > 1 { payload[0] = 1 }
            _ = try? EventCodec.decode(StoreRecord(sequence: 1, timeMicroseconds: 0, payload: payload))
        }
    }

    // Measures compressed bytes per event on the reference workload (2,000 connectors, 200
    // tunnels, 4 nodes, mostly renews): zstd level 3 streamed with a flush per 32-record commit.
    @Test func compressedBytesPerEvent() throws {
        var generator = RegistryRandom(seed: 3)
        let nodes = (0..<4).map { _ in uuid(&generator) }
        let tunnels = (0..<200).map { _ in uuid(&generator) }
        let connectors = (0..<2_000).map { index in
            Service(
                id: uuid(&generator), name: tunnels[index % 200], node: nodes[index % 4], network: "tcp",
                address: "10.0.0.\(index % 4 + 1):80")
        }
        var payloads: [[UInt8]] = connectors.map {
            EventCodec.encode(
                RegistryEvent(sequence: 0, timeMicroseconds: 0, kind: .register, service: $0, peer: "10.0.0.9:51000"))
        }
        for _ in 0..<10 {
            for connector in connectors {
                let key = Service(
                    id: connector.id, name: connector.name, node: connector.node, network: "", address: "")
                payloads.append(
                    EventCodec.encode(
                        RegistryEvent(
                            sequence: 0, timeMicroseconds: 0, kind: .renew, service: key, peer: "10.0.0.9:51000")))
            }
        }
        let compressed = try streamCompressed(payloads, recordsPerFlush: 32)
        let perEvent = Double(compressed) / Double(payloads.count)
        let perRecordFlush = Double(try streamCompressed(payloads, recordsPerFlush: 1)) / Double(payloads.count)
        let raw = Double(payloads.reduce(0) { $0 + $1.count }) / Double(payloads.count)
        print(
            "codec: \(payloads.count) events, raw \(raw) B/event, zstd-3 flushed per 32 records: \(perEvent) B/event, "
                + "flushed per record: \(perRecordFlush) B/event")
        #expect(perEvent < 12)
    }

    private func uuid(_ generator: inout RegistryRandom) -> String {
        let hex = (0..<32).map { _ in String(generator.next() % 16, radix: 16) }.joined()
        return [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
            hex.dropFirst(20),
        ]
        .joined(separator: "-")
    }

    private func streamCompressed(_ payloads: [[UInt8]], recordsPerFlush: Int) throws -> Int {
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 3)
        var output = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        for start in stride(from: 0, to: payloads.count, by: recordsPerFlush) {
            let batch = Array(payloads[start..<min(start + recordsPerFlush, payloads.count)].joined())
            batch.withUnsafeBytes { input in
                var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: batch.count, pos: 0)
                output.withUnsafeMutableBytes { out in
                    var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    var remaining = 1
                    while remaining != 0 {
                        remaining = ZSTD_compressStream2(context, &outBuffer, &inBuffer, ZSTD_e_flush)
                    }
                    total += outBuffer.pos
                }
            }
        }
        return total
    }
}
