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
        var reader = RawPayloadReader(bytes: payload)
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
        let fields = try view(payload, sequence: sequence)
        return RegistryEvent(
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

    private static func viewFields(_ reader: inout RawPayloadReader) throws(ByteReaderError) -> EventPayloadView {
        let payloadVersion = try reader.readByte()
        guard payloadVersion == version else {
            throw ByteReaderError(
                offset: 0, reason: "unknown payload version \(payloadVersion) (this build reads \(version))")
        }
        let kindCode = try reader.readByte()
        guard let kind = kind(of: kindCode) else {
            throw ByteReaderError(offset: 1, reason: "unknown event kind \(kindCode)")
        }
        let id = try reader.readString(field: "id")
        let name = try reader.readString(field: "name")
        let node = try reader.readString(field: "node")
        let network = try reader.readString(field: "network")
        let address = try reader.readString(field: "address")
        let peer = try reader.readString(field: "peer")
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
            ? try reader.readString(field: "instance") : UnsafeRawBufferPointer(start: nil, count: 0)
        guard reader.remaining == 0 else {
            throw ByteReaderError(offset: reader.offset, reason: "\(reader.remaining) trailing bytes")
        }
        return EventPayloadView(
            kind: kind, id: id, name: name, node: node, network: network, address: address, peer: peer,
            lapsedAtMicroseconds: lapsed, leaseTTLMicroseconds: ttl, renewSequence: renewSequence,
            instance: instance)
    }
}

/// The payload reader over borrowed bytes: the same checks as `ByteReader` (lengths against the
/// bytes left and `EventCodec.fieldBytesMax`, varints of at most 10 bytes, UTF-8).
struct RawPayloadReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    @inline(__always)
    mutating func readByte() throws(ByteReaderError) -> UInt8 {
        guard offset < bytes.count else {
            throw ByteReaderError(offset: offset, reason: "unexpected end of data")
        }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readVarint() throws(ByteReaderError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 {
                throw ByteReaderError(offset: offset - 1, reason: "varint overflows 64 bits")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 {
                throw ByteReaderError(offset: offset, reason: "varint longer than 10 bytes")
            }
        }
    }

    mutating func readSignedVarint() throws(ByteReaderError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// The bytes of a length-prefixed UTF-8 string of at most `EventCodec.fieldBytesMax` bytes.
    mutating func readString(field: StaticString) throws(ByteReaderError) -> UnsafeRawBufferPointer {
        let start = offset
        // Lengths below 128 (every field the server accepts) are one byte.
        let length: Int
        if offset < bytes.count, bytes[offset] < 0x80 {
            length = Int(bytes[offset])
            offset += 1
        } else {
            let value = try readVarint()
            guard value <= UInt64(EventCodec.fieldBytesMax) else {
                throw ByteReaderError(
                    offset: start,
                    reason: "\(field) length of \(value) exceeds the limit of \(EventCodec.fieldBytesMax)")
            }
            length = Int(value)
        }
        guard length <= remaining else {
            throw ByteReaderError(offset: offset, reason: "\(field) length \(length) exceeds the \(remaining) bytes left")
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
        // Fields are almost always ASCII: check that in one pass and validate only the others.
        var highBits: UInt8 = 0
        for byte in slice { highBits |= byte }
        if highBits >= 0x80, String(validating: slice.assumingMemoryBound(to: UInt8.self), as: UTF8.self) == nil {
            throw ByteReaderError(offset: offset, reason: "\(field) is not valid UTF-8")
        }
        offset += length
        return slice
    }
}
