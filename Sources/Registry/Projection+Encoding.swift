/// The byte form of a projection inside a snapshot (before compression): version 2 is
/// `version(1) lastSequence lastTime leaseTTL liveCount {service registered lastRenew expires
/// lastRenewSequence} lapsedCount {service registered lapsedAt}`, integers as varints (instants
/// zigzag), each service as five length-prefixed strings (id name node network address), entries
/// sorted by name then id so equal projections give equal bytes. Version 1 lacks
/// `lastRenewSequence` and is still read (as 0). docs/FORMAT.md has the same, byte by byte.
extension Projection {
    static let encodingVersion: UInt8 = 2

    /// The uncompressed byte form a snapshot store keeps.
    public func snapshotBytes() -> [UInt8] { encoded() }

    /// The projection a snapshot store kept; throws `SnapshotDecodingError` when malformed.
    ///
    /// With `deferringLapsed` the lapsed services are not decoded: the projection keeps `bytes`
    /// and an index of them, and decodes a lapsed service when a record looks up its key (or all,
    /// when something reads every lapsed service). It answers, folds, encodes and compares exactly
    /// as one loaded eagerly, and accepts and refuses the same bytes; a load whose fold looks up few
    /// lapsed services (the replay tool's) costs much less. The server loads eagerly.
    public init(snapshotBytes bytes: [UInt8], deferringLapsed: Bool = false) throws(SnapshotDecodingError) {
        do {
            try self.init(encoded: bytes, deferringLapsed: deferringLapsed)
        } catch {
            throw SnapshotDecodingError(offset: error.offset, reason: error.reason)
        }
    }
    /// More entries than this in a snapshot is damage, not data.
    static let encodedEntriesMax = 50_000_000

    /// The byte form; with `lapsedEntries` false it ends after the lapsed count (what
    /// `SnapshotComparer` encodes afresh for every snapshot).
    func encoded(lapsedEntries: Bool = true) -> [UInt8] {
        if lapsedEntries, deferredLapsed.count > 0 { return undeferred.encoded() }
        let liveOrder = live.sortedIndices
        let lapsedOrder = lapsedEntries ? lapsed.sortedIndices : []
        // Written through the buffer's pointer, growing it between entries when one might not fit
        // (appending to the array byte by byte and string by string was most of the encoding).
        var output = [UInt8](repeating: 0, count: 64 + (liveOrder.count + lapsedOrder.count) * 96)
        var length = 0
        var nextLive = 0
        var nextLapsed = 0
        while true {
            let finished = output.withUnsafeMutableBufferPointer { buffer in
                var writer = RawByteWriter(buffer, position: length)
                defer { length = writer.position }
                if length == 0 {
                    writer.writeByte(Projection.encodingVersion)
                    writer.writeVarint(lastSequence)
                    writer.writeSignedVarint(lastTimeMicroseconds)
                    writer.writeSignedVarint(leaseTTLMicroseconds)
                    writer.writeVarint(UInt64(liveOrder.count))
                }
                while nextLive < liveOrder.count {
                    let index = liveOrder[nextLive]
                    let entry = live[index]
                    let id = live.id(at: index)
                    let name = live.name(at: index)
                    let node = strings[entry.node]
                    let network = strings[entry.network]
                    let address = strings[entry.address]
                    let stringBytes = id.utf8.count + name.utf8.count + node.utf8.count + network.utf8.count
                        + address.utf8.count
                    // Five length prefixes, four varints, and the lapsed count after the last.
                    guard writer.remaining >= stringBytes + 10 * RawByteWriter.varintBytesMax else { return false }
                    writer.writeString(id)
                    writer.writeString(name)
                    writer.writeString(node)
                    writer.writeString(network)
                    writer.writeString(address)
                    writer.writeSignedVarint(entry.registeredAtMicroseconds)
                    writer.writeSignedVarint(entry.lastRenewAtMicroseconds)
                    writer.writeSignedVarint(entry.leaseExpiresAtMicroseconds)
                    writer.writeVarint(entry.lastRenewSequence)
                    nextLive += 1
                }
                if nextLapsed == 0 {
                    guard writer.remaining >= RawByteWriter.varintBytesMax else { return false }
                    writer.writeVarint(UInt64(lapsedEntryCount))
                }
                while nextLapsed < lapsedOrder.count {
                    guard writer.write(lapsed[lapsedOrder[nextLapsed]]) else { return false }
                    nextLapsed += 1
                }
                return true
            }
            if finished { break }
            output.append(contentsOf: repeatElement(0, count: output.count))
        }
        output.removeLast(output.count - length)
        return output
    }

    /// `deferringLapsed`: as for `init(snapshotBytes:deferringLapsed:)`.
    init(encoded bytes: [UInt8], deferringLapsed: Bool = false) throws(ByteReaderError) {
        let decoded = bytes.withUnsafeBytes { raw in
            Result { () throws(ByteReaderError) in
                try Projection(reading: raw, deferringLapsedOf: deferringLapsed ? bytes : nil)
            }
        }
        self = try decoded.get()
    }

    /// `deferred`, when given, is the array `bytes` points into, which a deferred lapsed section keeps.
    private init(reading bytes: UnsafeRawBufferPointer, deferringLapsedOf deferred: [UInt8]?) throws(ByteReaderError) {
        var reader = ByteReader(bytes)
        let version = try reader.readByte()
        guard version == 1 || version == Projection.encodingVersion else {
            throw ByteReaderError(offset: 0, reason: "unknown projection version \(version)")
        }
        self.init()
        lastSequence = try reader.readVarint()
        lastTimeMicroseconds = try reader.readSignedVarint()
        leaseTTLMicroseconds = try reader.readSignedVarint()
        let liveCount = try reader.readCount(max: Projection.encodedEntriesMax, what: "live entry count")
        // The lease index is built when the sweeper first reads it: the `start` record that follows
        // a load at every open rebuilds it anyway (indexing here was a tenth of a restart).
        leaseIndexStale = true
        live.reserveEntryCapacity(liveCount)
        // Leases come sorted by name then id, so grouped by name: the name's entry is looked up
        // once per group, and while each key is ASCII and follows the previous one no key can
        // repeat: leases are stored unplaced and placed in one pass at the end (looking each up
        // first, a cache miss per lease, was a sixth of a load). Anything else is checked by lookup.
        var previousName = noBytes
        var previousID = noBytes
        var previousNameIndex: Int?
        var sorted = true
        var namesPlaced = false
        var memo = InternMemo()
        for _ in 0..<liveCount {
            let (id, name, node, network, address, ascii) = try reader.readServiceFields()
            let entry = LeaseEntry(
                node: memo.intern(node, into: &strings),
                network: memo.intern(network, into: &strings),
                address: memo.intern(address, into: &strings),
                registeredAtMicroseconds: try reader.readSignedVarint(),
                lastRenewAtMicroseconds: try reader.readSignedVarint(),
                leaseExpiresAtMicroseconds: try reader.readSignedVarint(),
                lastRenewSequence: version >= 2 ? try reader.readVarint() : 0
            )
            let hash = serviceHash(name, id)
            try Projection.admit(
                name, id, hash: hash, ascii: ascii, after: previousName, previousID, sorted: &sorted, into: &live,
                section: "live", offset: reader.offset)
            // Names are stored unplaced while the leases are (a name's lookup then needs them placed).
            if !sorted, !namesPlaced {
                names.placeAll()
                namesPlaced = true
            }
            let sameName = previousNameIndex != nil && sameBytes(previousName, name)
            previousNameIndex =
                insertLive(
                    name: name,
                    id: id,
                    hash: hash,
                    entry,
                    nameIndex: sameName ? previousNameIndex : nil,
                    // Sorted keys: a name unlike the previous one sorts after every name before.
                    newName: sorted && !sameName,
                    placing: !sorted,
                    ascii: sorted ? true : nil
                )
                .nameIndex
            previousName = name
            previousID = id
        }
        if sorted {
            live.placeAll()
            names.placeAll()
        }
        if let deferred, let index = DeferredLapsedEntries.index(reader, in: deferred) {
            deferredLapsed = index.entries
            lapsedAtLowerBound = index.lapsedAtLowerBound
            reader = index.reader
        } else {
            try readLapsedEntries(&reader)
        }
        guard reader.remaining == 0 else {
            throw ByteReaderError(offset: reader.offset, reason: "\(reader.remaining) trailing bytes")
        }
    }

    /// Reads the lapsed entries (count first) into `lapsed`.
    private mutating func readLapsedEntries(_ reader: inout ByteReader) throws(ByteReaderError) {
        let lapsedCount = try reader.readCount(max: Projection.encodedEntriesMax, what: "lapsed entry count")
        // Lapsed services are most of a snapshot's entries: as for leases, while the keys are ASCII
        // and rising none can repeat, so they are stored unplaced into reserved room and placed in
        // one pass (a lookup before each insert and the table's growth were most of a load).
        lapsed.reserveEntryCapacity(lapsedCount)
        var previousName = noBytes
        var previousID = noBytes
        var sorted = true
        var nameString = ""
        var networkString = ""
        var previousNetwork = noBytes
        for _ in 0..<lapsedCount {
            let (id, name, node, network, address, ascii) = try reader.readServiceFields()
            let registeredAt = try reader.readSignedVarint()
            let lapsedAt = try reader.readSignedVarint()
            let hash = serviceHash(name, id)
            try Projection.admit(
                name, id, hash: hash, ascii: ascii, after: previousName, previousID, sorted: &sorted, into: &lapsed,
                section: "lapsed", offset: reader.offset)
            // Entries come grouped by name and mostly share one network: those strings are shared.
            if !sameBytes(name, previousName) { nameString = String(decoding: name, as: UTF8.self) }
            if !sameBytes(network, previousNetwork) { networkString = String(decoding: network, as: UTF8.self) }
            previousNetwork = network
            let idString = String(decoding: id, as: UTF8.self)
            lapsedAtLowerBound = min(lapsedAtLowerBound, lapsedAt)
            // Built in the call, so the table takes the service without a copy of it.
            lapsed.insert(
                name: nameString,
                id: idString,
                hash: hash,
                LapsedService(
                    service: Service(
                        id: idString,
                        name: nameString,
                        node: String(decoding: node, as: UTF8.self),
                        network: networkString,
                        address: String(decoding: address, as: UTF8.self)
                    ),
                    registeredAtMicroseconds: registeredAt,
                    lapsedAtMicroseconds: lapsedAt
                ),
                placing: !sorted,
                ascii: sorted ? true : nil
            )
            previousName = name
            previousID = id
        }
        if sorted { lapsed.placeAll() }
    }

    /// The error for a key a snapshot holds twice.
    /// Admits the next key of a snapshot section into `table`: while keys come ASCII and strictly
    /// rising none can repeat, so they are stored unplaced (`sorted` stays true); at the first
    /// that does not, the section so far is placed, `sorted` turns false, and from then on each
    /// key is looked up first and a repeat is refused.
    @inline(__always)
    private static func admit<Value: Sendable>(
        _ name: UnsafeRawBufferPointer,
        _ id: UnsafeRawBufferPointer,
        hash: UInt32,
        ascii: Bool,
        after previousName: UnsafeRawBufferPointer,
        _ previousID: UnsafeRawBufferPointer,
        sorted: inout Bool,
        into table: inout ServiceTable<Value>,
        section: String,
        offset: Int
    ) throws(ByteReaderError) {
        if sorted, !follows(name, id, ascii: ascii, after: previousName, previousID) {
            sorted = false
            table.placeAll()
        }
        if !sorted, table.find(name, id, hash: hash) != nil {
            throw duplicate(section, name, id, offset: offset)
        }
    }

    private static func duplicate(
        _ section: String,
        _ name: UnsafeRawBufferPointer,
        _ id: UnsafeRawBufferPointer,
        offset: Int
    ) -> ByteReaderError {
        let key = "\(String(decoding: name, as: UTF8.self))/\(String(decoding: id, as: UTF8.self))"
        return ByteReaderError(offset: offset, reason: "duplicate \(section) entry \(key)")
    }
}

extension Projection {
    /// Whether (name, id) and the previous key are ASCII and (name, id) sorts strictly after it
    /// (byte order is `String` order for ASCII); the first key follows the empty one.
    /// `ascii` true says the caller checked name and id already.
    static func follows(
        _ name: UnsafeRawBufferPointer,
        _ id: UnsafeRawBufferPointer,
        ascii: Bool,
        after previousName: UnsafeRawBufferPointer,
        _ previousID: UnsafeRawBufferPointer
    ) -> Bool {
        guard ascii || (ByteReader.isASCII(name) && ByteReader.isASCII(id)) else { return false }
        let byName = compareBytes(previousName, name)
        return byName < 0 || (byName == 0 && compareBytes(previousID, id) < 0)
    }
}

/// Writes the `ByteWriter` forms into a buffer the caller sized (`remaining` first): no
/// capacity check or uniqueness check per byte.
struct RawByteWriter {
    /// A varint takes at most this many bytes.
    static var varintBytesMax: Int { 10 }

    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var position: Int

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>, position: Int) {
        self.buffer = buffer
        self.position = position
    }

    var remaining: Int { buffer.count - position }

    /// Writes a lapsed service's entry; false, writing nothing, when it might not fit.
    @inline(__always)
    mutating func write(_ entry: borrowing LapsedService) -> Bool {
        let stringBytes = entry.service.id.utf8.count + entry.service.name.utf8.count
            + entry.service.node.utf8.count + entry.service.network.utf8.count + entry.service.address.utf8.count
        // Five length prefixes and two varints.
        guard remaining >= stringBytes + 7 * RawByteWriter.varintBytesMax else { return false }
        writeString(entry.service.id)
        writeString(entry.service.name)
        writeString(entry.service.node)
        writeString(entry.service.network)
        writeString(entry.service.address)
        writeSignedVarint(entry.registeredAtMicroseconds)
        writeSignedVarint(entry.lapsedAtMicroseconds)
        return true
    }

    @inline(__always)
    mutating func writeByte(_ value: UInt8) {
        buffer[position] = value
        position += 1
    }

    @inline(__always)
    mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            buffer[position] = UInt8(truncatingIfNeeded: rest) | 0x80
            position += 1
            rest >>= 7
        }
        buffer[position] = UInt8(rest)
        position += 1
    }

    @inline(__always)
    mutating func writeSignedVarint(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always)
    mutating func writeString(_ value: borrowing String) {
        withStoredBytes(value) { bytes in
            writeVarint(UInt64(bytes.count))
            guard let source = bytes.baseAddress, let target = buffer.baseAddress else { return }
            UnsafeMutableRawPointer(target + position).copyMemory(from: source, byteCount: bytes.count)
            position += bytes.count
        }
    }
}

extension ByteWriter {
    mutating func writeService(_ service: Service) {
        writeString(service.id)
        writeString(service.name)
        writeString(service.node)
        writeString(service.network)
        writeString(service.address)
    }
}

extension ByteReader {
    /// A snapshot entry's five strings (id name node network address) and whether all are ASCII:
    /// with one-byte lengths they are checked in one pass over their bytes (a check per field was
    /// a tenth of a load); anything else is read and checked field by field, as `readUTF8` reports.
    @inline(__always)
    mutating func readServiceFields() throws(ByteReaderError) -> (
        UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer,
        UnsafeRawBufferPointer, ascii: Bool
    ) {
        var fast = self
        if let id = fast.readShortField(), let name = fast.readShortField(), let node = fast.readShortField(),
            let network = fast.readShortField(), let address = fast.readShortField(),
            // The length bytes are below 0x80 too: the span is ASCII exactly when every field is.
            ByteReader.isASCII(UnsafeRawBufferPointer(rebasing: bytes[offset..<fast.offset]))
        {
            self = fast
            return (id, name, node, network, address, true)
        }
        let limit = EventCodec.fieldBytesMax
        return (
            try readUTF8(maxBytes: limit, field: "id"), try readUTF8(maxBytes: limit, field: "name"),
            try readUTF8(maxBytes: limit, field: "node"), try readUTF8(maxBytes: limit, field: "network"),
            try readUTF8(maxBytes: limit, field: "address"), false
        )
    }

    mutating func readService() throws(ByteReaderError) -> Service {
        let limit = EventCodec.fieldBytesMax
        return Service(
            id: try readString(maxBytes: limit, field: "id"),
            name: try readString(maxBytes: limit, field: "name"),
            node: try readString(maxBytes: limit, field: "node"),
            network: try readString(maxBytes: limit, field: "network"),
            address: try readString(maxBytes: limit, field: "address")
        )
    }
}

/// A snapshot's projection bytes that do not decode: where and why.
public struct SnapshotDecodingError: Error, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public var description: String { "projection malformed at byte \(offset): \(reason)" }
}

extension Projection {
    /// True when `self`, loaded from a snapshot, holds the same view as `fold`. A version-1
    /// snapshot does not know the sequence of each lease's last renew (0): those are compared
    /// as unknown, so snapshots written before the field existed still verify.
    public func isSnapshot(of fold: Projection) -> Bool {
        if self == fold { return true }
        return withoutRenewSequences() == fold.withoutRenewSequences()
    }

    private func withoutRenewSequences() -> Projection {
        var copy = self
        for index in 0..<copy.live.capacity where copy.live.contains(index: index) {
            copy.live[index].lastRenewSequence = 0
        }
        return copy
    }
}
