/// Node, network and address repeat across services (a node's connectors share its id and
/// entrypoint): the projection keeps each distinct string once and leases refer to it by number
/// (docs/ARCHITECTURE.md, "One projection, two users"). Numbers are reused once no lease uses them.
struct StringTable: Sendable {
    private(set) var strings: [String] = []
    private var numbers: [String: UInt32] = [:]
    private var uses: [UInt32] = []
    private var free: [UInt32] = []

    /// The number of `string`, counting one more use.
    mutating func intern(_ string: String) -> UInt32 {
        if let number = numbers[string] {
            uses[Int(number)] += 1
            return number
        }
        let number: UInt32
        if let reused = free.popLast() {
            number = reused
            strings[Int(number)] = string
            uses[Int(number)] = 1
        } else {
            precondition(strings.count < Int(UInt32.max), "string table full at \(strings.count) strings")
            number = UInt32(strings.count)
            strings.append(string)
            uses.append(1)
        }
        numbers[string] = number
        return number
    }

    /// One use of `number` fewer; the string is forgotten after its last use.
    mutating func release(_ number: UInt32) {
        let index = Int(number)
        precondition(uses[index] > 0, "string \(number) released more often than interned")
        uses[index] -= 1
        guard uses[index] == 0 else { return }
        numbers[strings[index]] = nil
        strings[index] = ""
        free.append(number)
    }

    subscript(number: UInt32) -> String { strings[Int(number)] }

    /// Distinct strings in use.
    var count: Int { numbers.count }
}

/// A live lease as the projection stores it: the name and id are the keys of `Projection.live`,
/// node, network and address are numbers in the projection's string table (56 bytes, against
/// 112 for a `LiveService`).
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
}
