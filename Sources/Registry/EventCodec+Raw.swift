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

    @inlinable
    init(
        kind: EventKind, id: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer, node: UnsafeRawBufferPointer,
        network: UnsafeRawBufferPointer, address: UnsafeRawBufferPointer, peer: UnsafeRawBufferPointer,
        lapsedAtMicroseconds: Int64?, leaseTTLMicroseconds: Int64?, renewSequence: UInt64?,
        instance: UnsafeRawBufferPointer
    ) {
        self.kind = kind
        self.id = id
        self.name = name
        self.node = node
        self.network = network
        self.address = address
        self.peer = peer
        self.lapsedAtMicroseconds = lapsedAtMicroseconds
        self.leaseTTLMicroseconds = leaseTTLMicroseconds
        self.renewSequence = renewSequence
        self.instance = instance
    }
}

/// Decoding in place, without copying the payload first. The layout and every check are
/// `EventCodec`'s (docs/FORMAT.md, "Registry event payload"); `EventCodec.decode(_:)` runs this too.
extension EventCodec {
    /// The fields of `payload` (the record at `sequence`), valid while `payload` is. Throws
    /// `EventDecodingError` on an unknown version or a malformed payload.
    ///
    /// Inlined into the caller (the replay tool's folds parse every record): the view is built in
    /// place rather than returned through a call, which copied its 168 bytes for every record.
    @inlinable
    @inline(__always)
    public static func view(_ payload: UnsafeRawBufferPointer, sequence: UInt64) throws(EventDecodingError)
        -> EventPayloadView
    {
        if let view = plainView(payload) { return view }
        return try viewOtherwise(payload, sequence: sequence)
    }

    /// `view` of anything `plainView` leaves: the one-pass ASCII check with optional fields, then
    /// field by field.
    @usableFromInline
    static func viewOtherwise(_ payload: UnsafeRawBufferPointer, sequence: UInt64) throws(EventDecodingError)
        -> EventPayloadView
    {
        if let view = asciiView(payload) { return view }
        return try viewFieldByField(payload, sequence: sequence)
    }

    /// The view of the commonest payload, the one a renew or register carries: the current
    /// version, a known kind, six ASCII string fields with one-byte lengths and no flags, checked
    /// with plain loads (what `asciiView` checks of such a payload); nil for anything else.
    @inlinable
    @inline(__always)
    static func plainView(_ payload: UnsafeRawBufferPointer) -> EventPayloadView? {
        guard let base = payload.baseAddress else { return nil }
        let count = payload.count
        // version, kind, six length bytes, flags.
        guard count >= 9, base.load(as: UInt8.self) == currentVersion else { return nil }
        let kindCode = base.load(fromByteOffset: 1, as: UInt8.self)
        guard let kind = kind(of: kindCode) else { return nil }
        var offset = 2
        guard let id = shortField(base, count, &offset), let name = shortField(base, count, &offset),
            let node = shortField(base, count, &offset), let network = shortField(base, count, &offset),
            let address = shortField(base, count, &offset), let peer = shortField(base, count, &offset)
        else { return nil }
        // The flags byte is last and zero; the length bytes are below 0x80 too, so the span is
        // ASCII exactly when every field is.
        guard offset == count - 1, base.load(fromByteOffset: offset, as: UInt8.self) == 0,
            ByteReader.isASCII(UnsafeRawBufferPointer(start: base + 2, count: offset - 2))
        else { return nil }
        return EventPayloadView(
            kind: kind, id: id, name: name, node: node, network: network, address: address, peer: peer,
            lapsedAtMicroseconds: nil, leaseTTLMicroseconds: nil, renewSequence: nil,
            instance: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// The field whose length byte is at `offset` (below 0x80) and the offset after it, which must
    /// be within the payload; nil otherwise.
    @inlinable
    @inline(__always)
    static func shortField(_ base: UnsafeRawPointer, _ count: Int, _ offset: inout Int) -> UnsafeRawBufferPointer? {
        let length = Int(base.load(fromByteOffset: offset, as: UInt8.self))
        guard length < 0x80, offset + 1 + length < count else { return nil }
        let field = UnsafeRawBufferPointer(start: base + offset + 1, count: length)
        offset += 1 + length
        return field
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
