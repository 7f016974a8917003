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
    public init(snapshotBytes bytes: [UInt8]) throws(SnapshotDecodingError) {
        do {
            try self.init(encoded: bytes)
        } catch {
            throw SnapshotDecodingError(offset: error.offset, reason: error.reason)
        }
    }
    /// More entries than this in a snapshot is damage, not data.
    static let encodedEntriesMax = 50_000_000

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + (liveEntryCount + lapsedEntryCount) * 96)
        writer.writeByte(Projection.encodingVersion)
        writer.writeVarint(lastSequence)
        writer.writeSignedVarint(lastTimeMicroseconds)
        writer.writeSignedVarint(leaseTTLMicroseconds)
        writer.writeVarint(UInt64(liveEntryCount))
        for name in live.keys.sorted() {
            for (id, stored) in live[name, default: [:]].sorted(by: { $0.key < $1.key }) {
                let entry = liveService(name: name, id: id, stored)
                writer.writeService(entry.service)
                writer.writeSignedVarint(entry.registeredAtMicroseconds)
                writer.writeSignedVarint(entry.lastRenewAtMicroseconds)
                writer.writeSignedVarint(entry.leaseExpiresAtMicroseconds)
                writer.writeVarint(entry.lastRenewSequence)
            }
        }
        writer.writeVarint(UInt64(lapsedEntryCount))
        for entry in lapsedServices {
            writer.writeService(entry.service)
            writer.writeSignedVarint(entry.registeredAtMicroseconds)
            writer.writeSignedVarint(entry.lapsedAtMicroseconds)
        }
        return writer.bytes
    }

    init(encoded bytes: [UInt8]) throws(ByteReaderError) {
        let decoded = bytes.withUnsafeBytes { raw in
            Result { () throws(ByteReaderError) in try Projection(reading: raw) }
        }
        self = try decoded.get()
    }

    private init(reading bytes: UnsafeRawBufferPointer) throws(ByteReaderError) {
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
        // Entries come grouped by name: each name's leases are collected in one dictionary and
        // stored once (a restart decodes 100,000 leases: per-entry lookups of both levels were
        // most of its cost).
        var groupName = ""
        var group: [String: LeaseEntry] = [:]
        for _ in 0..<liveCount {
            let service = try reader.readService()
            var stored = LeaseEntry(
                node: strings.intern(service.node), network: strings.intern(service.network),
                address: strings.intern(service.address), registeredAtMicroseconds: try reader.readSignedVarint(),
                lastRenewAtMicroseconds: try reader.readSignedVarint(),
                leaseExpiresAtMicroseconds: try reader.readSignedVarint(),
                lastRenewSequence: version >= 2 ? try reader.readVarint() : 0)
            if service.name != groupName {
                try storeLiveGroup(name: groupName, group, offset: reader.offset)
                groupName = service.name
                group = [:]
            }
            indexLease(name: service.name, id: service.id, entry: &stored)
            guard group.updateValue(stored, forKey: service.id) == nil else {
                throw ByteReaderError(
                    offset: reader.offset, reason: "duplicate live entry \(service.name)/\(service.id)")
            }
        }
        try storeLiveGroup(name: groupName, group, offset: reader.offset)
        let lapsedCount = try reader.readCount(max: Projection.encodedEntriesMax, what: "lapsed entry count")
        for _ in 0..<lapsedCount {
            let service = try reader.readService()
            let entry = LapsedService(
                service: service, registeredAtMicroseconds: try reader.readSignedVarint(),
                lapsedAtMicroseconds: try reader.readSignedVarint())
            guard lapsedEntry(name: service.name, id: service.id) == nil else {
                throw ByteReaderError(
                    offset: reader.offset, reason: "duplicate lapsed entry \(service.name)/\(service.id)")
            }
            setLapsed(entry)
        }
        guard reader.remaining == 0 else {
            throw ByteReaderError(offset: reader.offset, reason: "\(reader.remaining) trailing bytes")
        }
    }
}

extension Projection {
    /// Adds the decoded leases of `name` to the live map (merging with leases of the same name
    /// met earlier, which a well-formed snapshot never has).
    fileprivate mutating func storeLiveGroup(name: String, _ group: [String: LeaseEntry], offset: Int)
        throws(ByteReaderError)
    {
        guard !group.isEmpty else { return }
        liveEntryCount += group.count
        guard var existing = live.removeValue(forKey: name) else {
            live[name] = group
            return
        }
        for (id, entry) in group {
            guard existing.updateValue(entry, forKey: id) == nil else {
                throw ByteReaderError(offset: offset, reason: "duplicate live entry \(name)/\(id)")
            }
        }
        live[name] = existing
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
    mutating func readService() throws(ByteReaderError) -> Service {
        let limit = EventCodec.fieldBytesMax
        return Service(
            id: try readString(maxBytes: limit, field: "id"),
            name: try readString(maxBytes: limit, field: "name"),
            node: try readString(maxBytes: limit, field: "node"),
            network: try readString(maxBytes: limit, field: "network"),
            address: try readString(maxBytes: limit, field: "address"))
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
        for nameIndex in copy.live.indices {
            for idIndex in copy.live.values[nameIndex].indices {
                copy.live.values[nameIndex].values[idIndex].lastRenewSequence = 0
            }
        }
        return copy
    }
}
