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

    /// Whether string `number` has the UTF-8 `bytes`.
    @inline(__always)
    func equals(_ number: UInt32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        sameBytes(table.name(at: Int(number)), bytes)
    }

    /// Distinct strings in use.
    var count: Int { table.count }
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
