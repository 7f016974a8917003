import EventLog

/// Settings of a registry. Durations in microseconds; clock and randomness are injected so
/// tests are deterministic.
public struct RegistryConfiguration: Sendable {
    /// The data directory; the log lives in `DIR/log`, snapshots in `DIR/snapshots`.
    public var dataDirectory: String
    /// The lease a Register or Renew grants (recorded in every `start` record).
    public var leaseTTLMicroseconds: Int64 = 45_000_000
    /// The shortest lease accepted (100 ms): sub-second leases serve tests and demos.
    public static let leaseTTLMicrosecondsMin: Int64 = 100_000
    public var getOrder: GetOrder = .freshest
    /// Get's first tier: services renewed within this long (GOST's 15 s renew period plus 5 s slack).
    public var freshWindowMicroseconds: Int64 = 20_000_000
    public var fsync: FsyncPolicy = .always
    public var segmentBytesMax: Int = 64 << 20
    /// How often `run()` sweeps lapsed leases (at least once a second).
    public var sweepIntervalMicroseconds: Int64 = 500_000
    /// Most `expire` records per commit; the sweeper commits more in several.
    public var expireBatchMax = 1_000
    /// A snapshot is written after this many records ...
    public var snapshotEveryRecords = 100_000
    /// ... or this long after the last one, whichever comes first (when records were added).
    public var snapshotIntervalMicroseconds: Int64 = 300_000_000
    /// Snapshots kept in `DIR/snapshots`.
    public var snapshotsKept = 3
    /// How long after a failed append the registry reopens the log (and retries).
    public var recoveryIntervalMicroseconds: Int64 = 1_000_000
    /// Most services held at once (live or lapsed-but-unswept); a Register of a new service
    /// beyond it answers unavailable. Renews of known services are always taken.
    public var servicesMax = 1_000_000
    /// Most services one Get returns (the first ones in Get order).
    public var getResultsMax = 1_000
    /// Wall-clock microseconds since the Unix epoch; stamps log commits and decides leases.
    public var clock: @Sendable () -> Int64 = { SystemClock.wallClockMicroseconds() }
    /// Seeds Get's shuffles; nil draws from the system's random source.
    public var randomSeed: UInt64?

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    /// Throws `RegistryConfigurationError` naming the first setting out of range.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw RegistryConfigurationError(message: message) }
        }
        try check(!dataDirectory.isEmpty, "the data directory must not be empty")
        try check(
            leaseTTLMicroseconds >= Self.leaseTTLMicrosecondsMin,
            "lease TTL \(leaseTTLMicroseconds) µs is below 100 ms; use at least 100ms (GOST renews every 15 s: 45s)")
        try check(freshWindowMicroseconds >= 0, "fresh window \(freshWindowMicroseconds) µs must not be negative")
        try check(
            (1_000...1_000_000).contains(sweepIntervalMicroseconds),
            "sweep interval \(sweepIntervalMicroseconds) µs must be between 1 ms and 1 s")
        try check((1...100_000).contains(expireBatchMax), "expire batch \(expireBatchMax) must be 1...100000")
        try check(snapshotEveryRecords >= 1, "snapshot every \(snapshotEveryRecords) records must be at least 1")
        try check(snapshotIntervalMicroseconds >= 1_000_000, "snapshot interval must be at least 1 s")
        try check((1...100).contains(snapshotsKept), "snapshots kept \(snapshotsKept) must be 1...100")
        try check(recoveryIntervalMicroseconds >= 0, "recovery interval must not be negative")
        try check(servicesMax >= 1, "services max \(servicesMax) must be at least 1")
        try check(getResultsMax >= 1, "Get results max \(getResultsMax) must be at least 1")
    }

    /// The log directory, `DIR/log`.
    public var logDirectory: String { dataDirectory + "/log" }
    /// The snapshot directory, `DIR/snapshots`.
    public var snapshotDirectory: String { dataDirectory + "/snapshots" }
}

/// A registry setting out of range: which, its value, and the allowed range.
public struct RegistryConfigurationError: Error, Equatable, CustomStringConvertible {
    public var message: String

    public var description: String { message }
}

/// Get's shuffles: SplitMix64 when seeded (tests), the system generator otherwise.
struct RegistryRandom: RandomNumberGenerator {
    private var state: UInt64?
    private var system = SystemRandomNumberGenerator()

    init(seed: UInt64?) {
        state = seed
    }

    mutating func next() -> UInt64 {
        guard var value = state else { return system.next() }
        value &+= 0x9E37_79B9_7F4A_7C15
        state = value
        var mixed = value
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
