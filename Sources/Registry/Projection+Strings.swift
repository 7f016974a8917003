/// Node, network and address repeat across services (a node's connectors share its id and
/// entrypoint): the projection keeps each distinct string once and leases refer to it by number
/// (docs/ARCHITECTURE.md, "One projection, two users"). Numbers are reused once no lease uses them.
/// Looked up by borrowed bytes, so folding a record builds no string for a value already held.
struct StringTable: Sendable {
    /// Each string keyed (string, ""), its value the leases using it; a number is an entry index.
    private var table = ServiceTable<UInt32>()

    /// The number of the string with UTF-8 `bytes`, counting one more use.
    mutating func intern(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let hash = serviceHash(bytes, noBytes)
        if let index = table.find(bytes, noBytes, hash: hash) {
            table[index] += 1
            return UInt32(index)
        }
        return UInt32(table.insert(name: String(decoding: bytes, as: UTF8.self), id: "", hash: hash, 1))
    }

    /// The number of `string`, counting one more use.
    mutating func intern(_ string: String) -> UInt32 {
        withBytes(string) { intern($0) }
    }

    /// One use more of `number`, which is in use.
    @inline(__always)
    mutating func retain(_ number: UInt32) {
        table[Int(number)] += 1
    }

    /// One use of `number` fewer; the string is forgotten after its last use.
    mutating func release(_ number: UInt32) {
        let index = Int(number)
        precondition(
            table.contains(index: index) && table[index] > 0,
            "string \(number) released more often than interned"
        )
        table[index] -= 1
        if table[index] == 0 { table.remove(index: index) }
    }

    subscript(number: UInt32) -> String { table.name(at: Int(number)) }

    /// Whether string `number` has the UTF-8 `bytes` (read in place: no reference counting).
    @inline(__always)
    func equals(_ number: UInt32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        table.hasName(at: Int(number), bytes)
    }

    /// Distinct strings in use.
    var count: Int { table.count }
}

/// The numbers of strings interned lately, by a cheap hash of their bytes (direct-mapped): a
/// snapshot load interns three strings per lease and a few hundred distinct ones repeat across
/// 100,000 leases, so most are found here by one comparison with the string a slot names,
/// without hashing and probing the table. Numbers stay valid while nothing is released.
struct InternMemo {
    private static let slots = 4_096
    private var numbers = [UInt32](repeating: .max, count: InternMemo.slots)

    /// `strings.intern(bytes)`, through the memo.
    @inline(__always)
    mutating func intern(_ bytes: UnsafeRawBufferPointer, into strings: inout StringTable) -> UInt32 {
        let slot = Self.slot(bytes)
        let remembered = numbers[slot]
        if remembered != .max, strings.equals(remembered, bytes) {
            strings.retain(remembered)
            return remembered
        }
        let number = strings.intern(bytes)
        numbers[slot] = number
        return number
    }

    /// The slot of `bytes`: their length and last eight bytes, mixed.
    @inline(__always)
    private static func slot(_ bytes: UnsafeRawBufferPointer) -> Int {
        var word = UInt64(truncatingIfNeeded: bytes.count)
        if let base = bytes.baseAddress {
            if bytes.count >= 8 {
                word ^= base.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
            } else {
                for offset in 0..<bytes.count {
                    word ^= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) << (8 * UInt64(offset + 1))
                }
            }
        }
        return Int(truncatingIfNeeded: (word &* 0x9E37_79B9_7F4A_7C15) >> 52)
    }
}

/// A live lease as the projection stores it: the name and id are the keys of `Projection.live`,
/// node, network and address are numbers in the projection's string table, and the leases of one
/// name are linked (`Projection.names` holds the first) so Get reads them without a scan.
struct LeaseEntry: Sendable {
    var node: UInt32
    var network: UInt32
    var address: UInt32
    var registeredAtMicroseconds: Int64
    var lastRenewAtMicroseconds: Int64
    var leaseExpiresAtMicroseconds: Int64
    var lastRenewSequence: UInt64
    /// The lease index bucket that holds this lease (`LeaseIndex.notIndexed` while the sweeper
    /// has taken it out); never later than the bucket of `leaseExpiresAtMicroseconds`.
    var indexedBucket: Int64 = LeaseIndex.notIndexed
    /// The entry indices in `Projection.live` of the previous and next lease of the same name (-1: none).
    var previousInName: Int32 = -1
    var nextInName: Int32 = -1
}
