#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The key of a lapsed service, as `Projection.lapsedChanges` records it.
struct LapsedKey: Sendable {
    var name: String
    var id: String
}

/// The lapsed services a projection changed since a `SnapshotComparer` last compared it, and
/// which comparer started the log (a projection compared by another starts afresh).
struct LapsedChangeLog: Sendable {
    var owner: UInt64
    var keys: [LapsedKey] = []
}

/// Tells whether snapshot bytes are exactly a folding projection's `snapshotBytes()`, again and
/// again as the fold moves on: what `verify` asks at every snapshot (docs/FORMAT.md, "Snapshot
/// body"), byte for byte, as if it encoded the whole projection each time.
///
/// Most of a snapshot is the lapsed services (kept 24 h for revive) and few of them change
/// between two snapshots, so only the first comparison, and any that fails, encodes them all.
/// Later ones check the header and the live leases in place (`Projection.liveSectionEnd`), and
/// compare the lapsed section with the previous comparison's, which equalled the projection's
/// encoding then: byte runs between the services the projection changed since (its change log,
/// kept while a comparer uses it) must recur unchanged, and each changed service, re-encoded from
/// the projection, in its sorted place.
public struct SnapshotComparer: Sendable {
    /// Which projection change log is this comparer's.
    private let identity: UInt64
    /// Bytes whose lapsed section is the encoding of the projection's lapsed services when its
    /// change log was last emptied (the last snapshot that matched, or the projection's own bytes).
    private var previous: [UInt8] = []
    /// Where each lapsed entry of `previous` starts, then where the last one ends; empty when
    /// `previous` holds nothing to compare against.
    private var entryStarts: [Int] = []
    /// The projection's sequence when `previous` was taken: a fold only moves forward.
    private var previousSequence: UInt64 = 0
    /// The bytes `previous` held before, kept for `takeSpare`.
    private var spare: [UInt8] = []
    /// The live entry indices in the order of the last live section matched (`Projection.liveSectionEnd`).
    private var liveOrder: [Int32] = []
    /// Comparisons answered without encoding the lapsed services (tests check the shortcut is taken).
    private(set) var incrementalComparisons = 0

    public init() {
        var random = SystemRandomNumberGenerator()
        identity = random.next()
    }

    /// Whether `bytes` are exactly `projection.snapshotBytes()`. Starts the projection's change log
    /// of lapsed services, which the next call reads and empties.
    public mutating func matches(_ bytes: [UInt8], _ projection: inout Projection) -> Bool {
        // The change log below covers decoded lapsed services only.
        projection.undeferAllLapsed()
        if !entryStarts.isEmpty, let log = projection.lapsedChanges, log.owner == identity,
            projection.lastSequence >= previousSequence,
            log.keys.count <= entryStarts.count / 4 + 64
        {
            projection.lapsedChanges?.keys = []
            // The header and the live leases, checked in place.
            if let headEnd = bytes.withUnsafeBytes({ projection.liveSectionEnd(of: $0, order: &liveOrder) }),
                let starts = incrementalMatch(bytes, projection, headEnd: headEnd, changed: log.keys)
            {
                assert(Self.equal(bytes, projection.encoded()), "incremental comparison passed different bytes")
                spare = previous
                previous = bytes
                entryStarts = starts
                previousSequence = projection.lastSequence
                incrementalComparisons += 1
                return true
            }
        }
        return fullMatch(bytes, &projection)
    }

    /// An array the comparer no longer needs (the bytes it compared against before the last
    /// comparison), empty when none: a caller can read the next snapshot into its storage.
    public mutating func takeSpare() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &spare)
        return taken
    }

    /// The arrays the comparer holds, given up for reuse: the next comparison starts afresh.
    public mutating func takeBuffers() -> [[UInt8]] {
        let taken = [previous, spare]
        previous = []
        spare = []
        entryStarts = []
        return taken
    }

    /// Encodes the whole projection, keeps its bytes for the next comparison and starts the log.
    private mutating func fullMatch(_ bytes: [UInt8], _ projection: inout Projection) -> Bool {
        let encoded = projection.encoded()
        projection.lapsedChanges = LapsedChangeLog(owner: identity)
        spare = previous
        previous = encoded
        entryStarts = Self.lapsedEntryStarts(encoded) ?? []
        previousSequence = projection.lastSequence
        return Self.equal(bytes, encoded)
    }

    /// The lapsed entries' starts in `previous`, as `incrementalMatch` finds them in `bytes` when
    /// they equal the projection's encoding (the bytes before `headEnd` do); nil at the first difference.
    private func incrementalMatch(
        _ bytes: [UInt8], _ projection: Projection, headEnd: Int, changed: [LapsedKey]
    ) -> [Int]? {
        assert(Self.isHead(bytes, of: projection, count: headEnd), "live section check passed different bytes")
        let keys = Self.sortedDistinct(changed)
        let oldCount = entryStarts.count - 1
        var starts: [Int] = []
        starts.reserveCapacity(oldCount + keys.count + 1)
        var position = headEnd
        var entryScratch = [UInt8](repeating: 0, count: 256)
        let matched = previous.withUnsafeBytes { old in
            bytes.withUnsafeBytes { new in
                // Compares old entries `from..<to` with the bytes at `position` and records their starts there.
                func sameRun(_ from: Int, _ to: Int) -> Bool {
                    let length = entryStarts[to] - entryStarts[from]
                    guard length > 0 else { return true }
                    guard position + length <= new.count,
                        memcmp(old.baseAddress! + entryStarts[from], new.baseAddress! + position, length) == 0
                    else { return false }
                    let shift = position - entryStarts[from]
                    for index in from..<to { starts.append(entryStarts[index] + shift) }
                    position += length
                    return true
                }
                var next = 0
                for key in keys {
                    let at = lowerBound(key, in: old, from: next, to: oldCount)
                    guard sameRun(next, at) else { return false }
                    next = at
                    if at < oldCount, Self.order(key, Self.key(at: entryStarts[at], in: old)) == 0 { next += 1 }
                    guard let index = projection.lapsed.find(name: key.name, id: key.id) else { continue }
                    guard let length = Self.encode(projection.lapsed[index], into: &entryScratch),
                        position + length <= new.count,
                        entryScratch.withUnsafeBytes({ memcmp($0.baseAddress!, new.baseAddress! + position, length) })
                            == 0
                    else { return false }
                    starts.append(position)
                    position += length
                }
                return sameRun(next, oldCount) && position == new.count
            }
        }
        guard matched else { return nil }
        starts.append(position)
        return starts
    }

    /// The first old entry in `from..<to` whose key is not before `key` (entries are sorted).
    private func lowerBound(_ key: LapsedKey, in old: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        var low = from
        var high = to
        while low < high {
            let middle = (low + high) / 2
            if Self.order(key, Self.key(at: entryStarts[middle], in: old)) > 0 {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    /// `keys` in snapshot order (name, then id, as `String`s compare), each once.
    private static func sortedDistinct(_ keys: [LapsedKey]) -> [LapsedKey] {
        let sorted = keys.sorted { left, right in
            withBytes(left.name, left.id) { leftName, leftID in
                withBytes(right.name, right.id) { order(leftName, leftID, $0, $1) < 0 }
            }
        }
        var distinct: [LapsedKey] = []
        distinct.reserveCapacity(sorted.count)
        for key in sorted where distinct.last.map({ $0.name != key.name || $0.id != key.id }) ?? true {
            distinct.append(key)
        }
        return distinct
    }

    /// The name and id of the lapsed entry at `offset` (an entry begins with its id, then its name).
    private static func key(
        at offset: Int, in bytes: UnsafeRawBufferPointer
    ) -> (name: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer) {
        var reader = ByteReader(bytes, offset: offset)
        guard let id = try? reader.readUTF8(maxBytes: Int.max, field: "id"),
            let name = try? reader.readUTF8(maxBytes: Int.max, field: "name")
        else {
            preconditionFailure(
                "lapsed entry at \(offset) of \(bytes.count) bytes unreadable: the comparer kept bytes it did not check")
        }
        return (name, id)
    }

    private static func order(
        _ key: LapsedKey, _ entry: (name: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer)
    ) -> Int {
        withBytes(key.name, key.id) { order($0, $1, entry.name, entry.id) }
    }

    /// The order of (name, id) keys in a snapshot: negative, zero (equal keys) or positive. Byte
    /// order when all four are ASCII, else `String` order, as `ServiceTable.sortedIndices` sorts.
    static func order(
        _ leftName: UnsafeRawBufferPointer, _ leftID: UnsafeRawBufferPointer,
        _ rightName: UnsafeRawBufferPointer, _ rightID: UnsafeRawBufferPointer
    ) -> Int {
        if ByteReader.isASCII(leftName), ByteReader.isASCII(leftID), ByteReader.isASCII(rightName),
            ByteReader.isASCII(rightID)
        {
            let byName = compareBytes(leftName, rightName)
            return byName != 0 ? byName : compareBytes(leftID, rightID)
        }
        let leftNameString = String(decoding: leftName, as: UTF8.self)
        let rightNameString = String(decoding: rightName, as: UTF8.self)
        if leftNameString != rightNameString { return leftNameString < rightNameString ? -1 : 1 }
        let leftIDString = String(decoding: leftID, as: UTF8.self)
        let rightIDString = String(decoding: rightID, as: UTF8.self)
        if leftIDString == rightIDString { return 0 }
        return leftIDString < rightIDString ? -1 : 1
    }

    /// Writes `entry`'s lapsed encoding at the start of `scratch` (grown when short); its length.
    private static func encode(_ entry: LapsedService, into scratch: inout [UInt8]) -> Int? {
        while true {
            let length: Int? = scratch.withUnsafeMutableBufferPointer { buffer in
                var writer = RawByteWriter(buffer, position: 0)
                return writer.write(entry) ? writer.position : nil
            }
            if let length { return length }
            guard scratch.count < 1 << 20 else { return nil }
            scratch = [UInt8](repeating: 0, count: scratch.count * 4)
        }
    }

    /// Where each lapsed entry of projection bytes starts, then where the last ends; nil when the
    /// bytes do not parse (they are the projection's own encoding, so they do).
    static func lapsedEntryStarts(_ bytes: [UInt8]) -> [Int]? {
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            do {
                let version = try reader.readByte()
                for _ in 0..<3 { _ = try reader.readVarint() }
                let liveCount = try reader.readVarint()
                for _ in 0..<liveCount {
                    for _ in 0..<5 { _ = try reader.readUTF8(maxBytes: Int.max, field: "string") }
                    for _ in 0..<(version >= 2 ? 4 : 3) { _ = try reader.readVarint() }
                }
                let lapsedCount = try reader.readCount(max: Projection.encodedEntriesMax, what: "lapsed entry count")
                var starts: [Int] = []
                starts.reserveCapacity(lapsedCount + 1)
                for _ in 0..<lapsedCount {
                    starts.append(reader.offset)
                    for _ in 0..<5 { _ = try reader.readUTF8(maxBytes: Int.max, field: "string") }
                    for _ in 0..<2 { _ = try reader.readVarint() }
                }
                starts.append(reader.offset)
                return reader.remaining == 0 ? starts : nil
            } catch {
                return nil
            }
        }
    }

    /// Whether `bytes` start with `projection`'s encoding up to its lapsed entries, `count` bytes long.
    private static func isHead(_ bytes: [UInt8], of projection: Projection, count: Int) -> Bool {
        let head = projection.encoded(lapsedEntries: false)
        return head.count == count && equal(bytes, head, count: count)
    }

    /// Whether the first `count` bytes (all of both when nil) are equal.
    private static func equal(_ left: [UInt8], _ right: [UInt8], count: Int? = nil) -> Bool {
        guard count != nil || left.count == right.count else { return false }
        let length = count ?? left.count
        guard left.count >= length, right.count >= length else { return false }
        guard length > 0 else { return true }
        return left.withUnsafeBytes { left in
            right.withUnsafeBytes { right in memcmp(left.baseAddress!, right.baseAddress!, length) == 0 }
        }
    }
}
