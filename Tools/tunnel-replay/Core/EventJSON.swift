import Registry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `events --format json` rows encoded straight from payload views (no strings built), the
/// same bytes `RowWriter.writeEvent` prints: the hot path of a full-log listing.
struct EventJSONEncoder {
    private(set) var bytes: [UInt8] = []
    private var cachedTime = Int64.min
    private var cachedTimeText: [UInt8] = []
    /// `,"kind":"register"` and so on, by kind.
    private static let kindFields: [EventKind: [UInt8]] = Dictionary(
        uniqueKeysWithValues: EventKind.allCases.map { ($0, Array(",\"kind\":\"\($0.rawValue)\"".utf8)) })

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Hands the encoded rows over and starts an empty buffer.
    mutating func take() -> [UInt8] {
        var taken: [UInt8] = []
        taken.reserveCapacity(bytes.capacity)
        swap(&taken, &bytes)
        return taken
    }

    mutating func append(sequence: UInt64, time: Int64, _ view: EventPayloadView) {
        bytes.append(contentsOf: #"{"seq":"#.utf8)
        CellBytes.appendUnsigned(sequence, to: &bytes)
        if time != cachedTime {
            cachedTime = time
            cachedTimeText.removeAll(keepingCapacity: true)
            Timestamp.appendFormatted(time, to: &cachedTimeText)
        }
        bytes.append(contentsOf: #","time":""#.utf8)
        bytes.append(contentsOf: cachedTimeText)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: Self.kindFields[view.kind]!)
        appendField(#","id":"#, view.id)
        appendField(#","name":"#, view.name)
        appendField(#","node":"#, view.node)
        appendField(#","network":"#, view.network)
        appendField(#","address":"#, view.address)
        appendField(#","peer":"#, view.peer)
        bytes.append(contentsOf: "}\n".utf8)
    }

    private mutating func appendField(_ key: StaticString, _ value: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        var plain = true
        for byte in value where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F {
            plain = false
            break
        }
        if plain {
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: value)
            bytes.append(UInt8(ascii: "\""))
        } else {
            CellBytes.appendJSONString(String(decoding: value, as: UTF8.self), to: &bytes)
        }
    }
}

/// `EventFilter` on payload views: the same rules, comparing bytes.
struct EventViewFilter: Sendable {
    let name: [UInt8]?
    let id: [UInt8]?
    let node: [UInt8]?
    let kinds: Set<EventKind>?
    let includeControl: Bool

    init(_ filter: EventFilter) {
        name = filter.name.map { Array($0.utf8) }
        id = filter.id.map { Array($0.utf8) }
        node = filter.node.map { Array($0.utf8) }
        kinds = filter.kinds
        includeControl = filter.includeControl
    }

    func matches(_ view: EventPayloadView) -> Bool {
        if let kinds {
            guard kinds.contains(view.kind) else { return false }
        } else if !includeControl, !view.kind.isServiceEvent {
            return false
        }
        if let name, !Self.equal(view.name, name) { return false }
        if let id, !Self.equal(view.id, id) { return false }
        if let node, !Self.equal(view.node, node) { return false }
        return true
    }

    static func equal(_ bytes: UnsafeRawBufferPointer, _ expected: [UInt8]) -> Bool {
        guard bytes.count == expected.count else { return false }
        guard let base = bytes.baseAddress, !expected.isEmpty else { return true }
        return expected.withUnsafeBytes { memcmp(base, $0.baseAddress!, expected.count) == 0 }
    }
}
