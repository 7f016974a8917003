/// An event payload parsed in place (a view into a log batch) with every check `EventCodec`
/// makes: the kind, each string field's UTF-8 bytes, and the optional instants. The replay tool
/// filters and prints millions of records a second from these views without building strings.
public struct EventPayloadView {
    public let kind: EventKind
    public let id: UnsafeRawBufferPointer
    public let name: UnsafeRawBufferPointer
    public let node: UnsafeRawBufferPointer
    public let network: UnsafeRawBufferPointer
    public let address: UnsafeRawBufferPointer
    public let peer: UnsafeRawBufferPointer
    public let lapsedAtMicroseconds: Int64?
    public let leaseTTLMicroseconds: Int64?
    /// Expire: the sequence of the lease's last register or renew.
    public let renewSequence: UInt64?
    /// The logging instance (cluster mode); empty when standalone.
    public let instance: UnsafeRawBufferPointer
}

/// Decoding in place, without copying the payload first. The layout and every check are
/// `EventCodec`'s (docs/FORMAT.md, "Registry event payload"); `EventCodec.decode(_:)` runs this too.
extension EventCodec {
    /// The fields of `payload` (the record at `sequence`), valid while `payload` is. Throws
    /// `EventDecodingError` on an unknown version or a malformed payload.
    public static func view(_ payload: UnsafeRawBufferPointer, sequence: UInt64) throws(EventDecodingError)
        -> EventPayloadView
    {
        if let view = asciiView(payload) { return view }
        return try viewFieldByField(payload, sequence: sequence)
    }

    /// `view` without its one-pass check of ASCII fields: every field read and checked alone.
    static func viewFieldByField(_ payload: UnsafeRawBufferPointer, sequence: UInt64) throws(EventDecodingError)
        -> EventPayloadView
    {
        var reader = ByteReader(payload)
        do {
            return try viewFields(&reader)
        } catch {
            throw EventDecodingError(sequence: sequence, offset: error.offset, reason: error.reason)
        }
    }

    /// The event held by `payload`, the record at `sequence` committed at `time`.
    public static func decode(_ payload: UnsafeRawBufferPointer, sequence: UInt64, time: Int64) throws(
        EventDecodingError
    ) -> RegistryEvent {
        event(try view(payload, sequence: sequence), sequence: sequence, time: time)
    }

    /// The event a checked view holds (its strings built), the record at `sequence` committed at `time`.
    public static func event(_ fields: EventPayloadView, sequence: UInt64, time: Int64) -> RegistryEvent {
        RegistryEvent(
            sequence: sequence, timeMicroseconds: time, kind: fields.kind,
            service: Service(
                id: string(fields.id), name: string(fields.name), node: string(fields.node),
                network: string(fields.network), address: string(fields.address)),
            peer: string(fields.peer), lapsedAtMicroseconds: fields.lapsedAtMicroseconds,
            leaseTTLMicroseconds: fields.leaseTTLMicroseconds, renewSequence: fields.renewSequence,
            instance: fields.instance.isEmpty ? "" : string(fields.instance))
    }

    /// A string from bytes the view checked as UTF-8.
    @inline(__always)
    static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The view of a well-formed payload whose six string fields have one-byte lengths and are
    /// ASCII, checked in one pass over their bytes (a check per field was the most of a record's
    /// parse); nil for anything else, which `viewFields` then reads and reports field by field.
    @inline(__always)
    private static func asciiView(_ payload: UnsafeRawBufferPointer) -> EventPayloadView? {
        var reader = ByteReader(payload)
        guard let payloadVersion = try? reader.readByte(), payloadVersion == version,
            let kindCode = try? reader.readByte(), let kind = kind(of: kindCode)
        else { return nil }
        let fieldsStart = reader.offset
        guard let id = reader.readShortField(), let name = reader.readShortField(),
            let node = reader.readShortField(), let network = reader.readShortField(),
            let address = reader.readShortField(), let peer = reader.readShortField(),
            // The length bytes are below 0x80 too: the span is ASCII exactly when every field is.
            ByteReader.isASCII(UnsafeRawBufferPointer(rebasing: payload[fieldsStart..<reader.offset])),
            let flags = try? reader.readByte(), flags & ~knownFlags == 0
        else { return nil }
        var lapsed: Int64?
        var ttl: Int64?
        var renewSequence: UInt64?
        var instance = UnsafeRawBufferPointer(start: nil, count: 0)
        if flags & lapsedFlag != 0 {
            guard let value = try? reader.readSignedVarint() else { return nil }
            lapsed = value
        }
        if flags & leaseTTLFlag != 0 {
            guard let value = try? reader.readSignedVarint() else { return nil }
            ttl = value
        }
        if flags & renewSequenceFlag != 0 {
            guard let value = try? reader.readVarint() else { return nil }
            renewSequence = value
        }
        if flags & instanceFlag != 0 {
            guard let value = try? reader.readUTF8(maxBytes: fieldBytesMax, field: "instance") else { return nil }
            instance = value
        }
        guard reader.remaining == 0 else { return nil }
        return EventPayloadView(
            kind: kind, id: id, name: name, node: node, network: network, address: address, peer: peer,
            lapsedAtMicroseconds: lapsed, leaseTTLMicroseconds: ttl, renewSequence: renewSequence,
            instance: instance)
    }

    private static func viewFields(_ reader: inout ByteReader) throws(ByteReaderError) -> EventPayloadView {
        let payloadVersion = try reader.readByte()
        guard payloadVersion == version else {
            throw ByteReaderError(
                offset: 0, reason: "unknown payload version \(payloadVersion) (this build reads \(version))")
        }
        let kindCode = try reader.readByte()
        guard let kind = kind(of: kindCode) else {
            throw ByteReaderError(offset: 1, reason: "unknown event kind \(kindCode)")
        }
        let id = try reader.readUTF8(maxBytes: fieldBytesMax, field: "id")
        let name = try reader.readUTF8(maxBytes: fieldBytesMax, field: "name")
        let node = try reader.readUTF8(maxBytes: fieldBytesMax, field: "node")
        let network = try reader.readUTF8(maxBytes: fieldBytesMax, field: "network")
        let address = try reader.readUTF8(maxBytes: fieldBytesMax, field: "address")
        let peer = try reader.readUTF8(maxBytes: fieldBytesMax, field: "peer")
        let flagsOffset = reader.offset
        let flags = try reader.readByte()
        guard flags & ~knownFlags == 0 else {
            throw ByteReaderError(offset: flagsOffset, reason: "unknown flags 0x\(String(flags, radix: 16))")
        }
        let lapsed = flags & lapsedFlag != 0 ? try reader.readSignedVarint() : nil
        let ttl = flags & leaseTTLFlag != 0 ? try reader.readSignedVarint() : nil
        let renewSequence = flags & renewSequenceFlag != 0 ? try reader.readVarint() : nil
        let instance =
            flags & instanceFlag != 0
            ? try reader.readUTF8(maxBytes: fieldBytesMax, field: "instance")
            : UnsafeRawBufferPointer(start: nil, count: 0)
        guard reader.remaining == 0 else {
            throw ByteReaderError(offset: reader.offset, reason: "\(reader.remaining) trailing bytes")
        }
        return EventPayloadView(
            kind: kind, id: id, name: name, node: node, network: network, address: address, peer: peer,
            lapsedAtMicroseconds: lapsed, leaseTTLMicroseconds: ttl, renewSequence: renewSequence,
            instance: instance)
    }
}
