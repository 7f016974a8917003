import EventLog

/// Settings of a registry. Durations in microseconds; clock and randomness are injected so
/// tests are deterministic.
public struct RegistryConfiguration: Sendable {
    /// The data directory; the log lives in `DIR/log`, snapshots in `DIR/snapshots`.
    public var dataDirectory: String
    /// The lease a Register or Renew grants (recorded in every `start` record).
    public var leaseTTLMicroseconds: Int64 = 45_000_000
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
    /// Wall-clock microseconds since the Unix epoch; stamps log commits and decides leases.
    public var clock: @Sendable () -> Int64 = { FileIO.wallClockMicroseconds() }
    /// Seeds Get's shuffles; nil draws from the system's random source.
    public var randomSeed: UInt64?

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    /// The log directory, `DIR/log`.
    public var logDirectory: String { dataDirectory + "/log" }
    /// The snapshot directory, `DIR/snapshots`.
    public var snapshotDirectory: String { dataDirectory + "/snapshots" }
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
