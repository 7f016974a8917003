/// A payload the codec cannot read: which record, where in it, and why.
public struct EventDecodingError: Error, Equatable, CustomStringConvertible {
    public var sequence: UInt64
    public var offset: Int
    public var reason: String

    public var description: String {
        "event payload at sequence \(sequence) is malformed at byte \(offset): \(reason); "
            + "run `tunnel-replay verify` to locate the damage"
    }
}

/// The versioned binary codec between `RegistryEvent` and log record payloads.
///
/// Version 1 layout (sequence and time come from the log record, not the payload):
/// `version(1) kind(1) id name node network address peer flags(1) [lapsedAt] [leaseTTL]
/// [renewSequence] [instance]`, strings as a LEB128 length then UTF-8 bytes, optional instants as
/// zigzag varints, present when `flags` bit 0 (lapsedAt) or bit 1 (leaseTTL) is set; bit 2 adds
/// the expire's renew sequence (varint), bit 3 the logging instance (string, cluster mode). The fields that repeat together
/// on every renew of a connector (kind, id, name, node) come first and contiguous, so the
/// log's zstd stream turns a renew into a short back-reference.
public enum EventCodec {
    /// The payload version this build writes.
    public static let version: UInt8 = 1
    /// The longest string field a payload may carry.
    public static let fieldBytesMax = 4096

    private static let lapsedFlag: UInt8 = 1
    private static let leaseTTLFlag: UInt8 = 2
    private static let renewSequenceFlag: UInt8 = 4
    private static let instanceFlag: UInt8 = 8
    private static let knownFlags: UInt8 = lapsedFlag | leaseTTLFlag | renewSequenceFlag | instanceFlag

    /// The payload for an event (sequence and time come from the log, not the payload).
    public static func encode(_ event: RegistryEvent) -> [UInt8] {
        var writer = ByteWriter(capacity: 96)
        writer.writeByte(version)
        writer.writeByte(code(of: event.kind))
        writer.writeString(event.service.id)
        writer.writeString(event.service.name)
        writer.writeString(event.service.node)
        writer.writeString(event.service.network)
        writer.writeString(event.service.address)
        writer.writeString(event.peer)
        var flags: UInt8 = 0
        if event.lapsedAtMicroseconds != nil { flags |= lapsedFlag }
        if event.leaseTTLMicroseconds != nil { flags |= leaseTTLFlag }
        if event.renewSequence != nil { flags |= renewSequenceFlag }
        if !event.instance.isEmpty { flags |= instanceFlag }
        writer.writeByte(flags)
        if let lapsed = event.lapsedAtMicroseconds { writer.writeSignedVarint(lapsed) }
        if let ttl = event.leaseTTLMicroseconds { writer.writeSignedVarint(ttl) }
        if let renewSequence = event.renewSequence { writer.writeVarint(renewSequence) }
        if !event.instance.isEmpty { writer.writeString(event.instance) }
        return writer.bytes
    }

    /// The event a log record holds. Throws on an unknown version or a malformed payload.
    public static func decode(_ record: StoreRecord) throws(EventDecodingError) -> RegistryEvent {
        try decode(payload: record.payload, sequence: record.sequence, timeMicroseconds: record.timeMicroseconds)
    }

    /// The event a payload holds, stamped with the record's sequence and commit time.
    public static func decode(payload: [UInt8], sequence: UInt64, timeMicroseconds: Int64) throws(EventDecodingError)
        -> RegistryEvent
    {
        do {
            return try decode(payload, sequence: sequence, time: timeMicroseconds)
        } catch {
            throw EventDecodingError(sequence: sequence, offset: error.offset, reason: error.reason)
        }
    }

    private static func decode(_ payload: [UInt8], sequence: UInt64, time: Int64) throws(ByteReaderError)
        -> RegistryEvent
    {
        var reader = ByteReader(payload)
        let payloadVersion = try reader.readByte()
        guard payloadVersion == version else {
            throw ByteReaderError(
                offset: 0, reason: "unknown payload version \(payloadVersion) (this build reads \(version))")
        }
        let kindCode = try reader.readByte()
        guard let kind = kind(of: kindCode) else {
            throw ByteReaderError(offset: 1, reason: "unknown event kind \(kindCode)")
        }
        let id = try reader.readString(maxBytes: fieldBytesMax, field: "id")
        let name = try reader.readString(maxBytes: fieldBytesMax, field: "name")
        let node = try reader.readString(maxBytes: fieldBytesMax, field: "node")
        let network = try reader.readString(maxBytes: fieldBytesMax, field: "network")
        let address = try reader.readString(maxBytes: fieldBytesMax, field: "address")
        let peer = try reader.readString(maxBytes: fieldBytesMax, field: "peer")
        let flagsOffset = reader.offset
        let flags = try reader.readByte()
        guard flags & ~knownFlags == 0 else {
            throw ByteReaderError(offset: flagsOffset, reason: "unknown flags 0x\(String(flags, radix: 16))")
        }
        let lapsed = flags & lapsedFlag != 0 ? try reader.readSignedVarint() : nil
        let ttl = flags & leaseTTLFlag != 0 ? try reader.readSignedVarint() : nil
        let renewSequence = flags & renewSequenceFlag != 0 ? try reader.readVarint() : nil
        let instance = flags & instanceFlag != 0 ? try reader.readString(maxBytes: fieldBytesMax, field: "instance") : ""
        guard reader.remaining == 0 else {
            throw ByteReaderError(offset: reader.offset, reason: "\(reader.remaining) trailing bytes")
        }
        return RegistryEvent(
            sequence: sequence, timeMicroseconds: time, kind: kind,
            service: Service(id: id, name: name, node: node, network: network, address: address),
            peer: peer, lapsedAtMicroseconds: lapsed, leaseTTLMicroseconds: ttl, renewSequence: renewSequence,
            instance: instance)
    }

    private static func code(of kind: EventKind) -> UInt8 {
        switch kind {
        case .register: return 1
        case .renew: return 2
        case .deregister: return 3
        case .expire: return 4
        case .start: return 5
        case .stall: return 6
        }
    }

    private static func kind(of code: UInt8) -> EventKind? {
        switch code {
        case 1: return .register
        case 2: return .renew
        case 3: return .deregister
        case 4: return .expire
        case 5: return .start
        case 6: return .stall
        default: return nil
        }
    }
}
