// Stand-ins for the Registry's store types until its store boundary lands on main; deleted then.

/// Where a committed record sits: its sequence and commit time.
public struct StorePosition: Sendable, Equatable, Hashable {
    public var sequence: UInt64
    public var timeMicroseconds: Int64
    public init(sequence: UInt64, timeMicroseconds: Int64) {
        self.sequence = sequence
        self.timeMicroseconds = timeMicroseconds
    }
}

/// One committed record.
public struct StoreRecord: Sendable, Equatable {
    public var sequence: UInt64
    public var timeMicroseconds: Int64
    public var payload: [UInt8]
    public init(sequence: UInt64, timeMicroseconds: Int64, payload: [UInt8]) {
        self.sequence = sequence
        self.timeMicroseconds = timeMicroseconds
        self.payload = payload
    }
}
