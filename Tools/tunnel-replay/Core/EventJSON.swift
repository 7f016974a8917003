import Registry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `events --format json` rows encoded straight from payload views into a raw buffer (no
/// strings built, one copy per field), the same bytes `RowWriter.writeEvent` prints: the hot
/// path of a full-log listing. One per worker thread.
final class EventJSONEncoder {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes encoded and not yet taken.
    private(set) var count = 0
    private var cachedTime = Int64.min
    private var cachedTimeText = [UInt8](repeating: 0, count: 27)

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit {
        base.deallocate()
    }

    /// Hands the encoded rows over and starts again empty.
    func take() -> [UInt8] {
        defer { count = 0 }
        return Array(UnsafeBufferPointer(start: base, count: count))
    }

    func append(sequence: UInt64, time: Int64, _ view: EventPayloadView) {
        let fields = view.id.count + view.name.count + view.node.count + view.network.count + view.address.count
            + view.peer.count + view.instance.count
        reserve(256 + fields * 6)
        put(#"{"seq":"#)
        putUnsigned(sequence)
        if time != cachedTime {
            cachedTime = time
            cachedTimeText.removeAll(keepingCapacity: true)
            Timestamp.appendFormatted(time, to: &cachedTimeText)
        }
        put(#","time":""#)
        cachedTimeText.withUnsafeBytes { put($0) }
        put(Self.kindField(view.kind))
        putField(#","id":"#, view.id)
        putField(#","name":"#, view.name)
        putField(#","node":"#, view.node)
        putField(#","network":"#, view.network)
        putField(#","address":"#, view.address)
        putField(#","peer":"#, view.peer)
        if view.instance.count > 0 { putField(#","instance":"#, view.instance) }
        put("}\n")
    }

    /// `","kind":"register"` and so on (the time's closing quote first).
    private static func kindField(_ kind: EventKind) -> StaticString {
        switch kind {
        case .register: return #"","kind":"register""#
        case .renew: return #"","kind":"renew""#
        case .deregister: return #"","kind":"deregister""#
        case .expire: return #"","kind":"expire""#
        case .start: return #"","kind":"start""#
        case .stall: return #"","kind":"stall""#
        }
    }

    private func reserve(_ bytes: Int) {
        guard count + bytes > capacity else { return }
        let grown = max(capacity * 2, count + bytes)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = grown
    }

    @inline(__always)
    private func put(_ text: StaticString) {
        (base + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
    }

    @inline(__always)
    private func put(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    private func putUnsigned(_ value: UInt64) {
        let digits = RowCursor.decimalDigits(value)
        RowCursor.writeDecimal(value, digits: digits, at: base + count)
        count += digits
    }

    private func putField(_ key: StaticString, _ value: UnsafeRawBufferPointer) {
        put(key)
        guard !Self.needsEscape(value) else {
            var escaped: [UInt8] = []
            CellBytes.appendJSONString(String(decoding: value, as: UTF8.self), to: &escaped)
            escaped.withUnsafeBytes { put($0) }
            return
        }
        base[count] = UInt8(ascii: "\"")
        count += 1
        put(value)
        base[count] = UInt8(ascii: "\"")
        count += 1
    }
}

extension EventJSONEncoder {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// True when a byte of `value` is a control byte, `"`, `\` or DEL (JSON escapes it), read
    /// eight bytes at a time: fields are short and almost never hold one.
    @inline(__always)
    static func needsEscape(_ value: UnsafeRawBufferPointer) -> Bool {
        guard let base = value.baseAddress else { return false }
        var offset = 0
        while offset + 8 <= value.count {
            let word = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            // A byte below 0x20, or equal to 0x22, 0x5C or 0x7F, sets its high bit in one of these.
            let below = (word &- ones &* 0x20) & ~word
            let quote = hasZeroByte(word ^ (ones &* 0x22))
            let backslash = hasZeroByte(word ^ (ones &* 0x5C))
            let delete = hasZeroByte(word ^ (ones &* 0x7F))
            if (below | quote | backslash | delete) & highBits != 0 { return true }
            offset += 8
        }
        while offset < value.count {
            let byte = value[offset]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F { return true }
            offset += 1
        }
        return false
    }

    @inline(__always)
    private static func hasZeroByte(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word
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
