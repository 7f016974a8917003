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
    public static let version: UInt8 = currentVersion
    /// `version` as a constant inlined code reads without a global's accessor.
    @inlinable
    static var currentVersion: UInt8 { 1 }
    /// The longest string field a payload may carry.
    public static let fieldBytesMax = 4096

    static let lapsedFlag: UInt8 = 1
    static let leaseTTLFlag: UInt8 = 2
    static let renewSequenceFlag: UInt8 = 4
    static let instanceFlag: UInt8 = 8
    static let knownFlags: UInt8 = lapsedFlag | leaseTTLFlag | renewSequenceFlag | instanceFlag

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
        let result = payload.withUnsafeBytes { bytes in
            Result { () throws(EventDecodingError) in try decode(bytes, sequence: sequence, time: timeMicroseconds) }
        }
        return try result.get()
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

    @inlinable
    @inline(__always)
    static func kind(of code: UInt8) -> EventKind? {
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
