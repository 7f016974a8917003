/// Settings of a registry. Durations in microseconds; clock and randomness are injected so
/// tests are deterministic.
public struct RegistryConfiguration: Sendable {
    /// The data directory: the embedded local log lives in `DIR/log`, snapshots in
    /// `DIR/snapshots` (module FileStore); in cluster mode it holds only caches.
    public var dataDirectory: String
    /// The name of this registry instance, recorded in every event it logs (cluster mode); empty
    /// for a standalone registry.
    public var instance = ""
    /// The lease a Register or Renew grants (recorded in every `start` record).
    public var leaseTTLMicroseconds: Int64 = 45_000_000
    public var getOrder: GetOrder = .freshest
    /// Get's first tier: services renewed within this long (GOST's 15 s renew period plus 5 s slack).
    public var freshWindowMicroseconds: Int64 = 20_000_000
    /// How often `run()` sweeps lapsed leases (at least once a second); a shorter lease is swept
    /// four times per lease (`effectiveSweepIntervalMicroseconds`).
    public var sweepIntervalMicroseconds: Int64 = 500_000
    /// Most `expire` records per commit; the sweeper commits more in several. Each batch is
    /// encoded and folded in one turn of the actor, which Get waits for: 250 kept Get's p99 under
    /// 1 ms while 100,000 leases lapsed at once, where 1,000 gave 2-3 ms (`registry-bench storm`).
    public var expireBatchMax = 250
    /// A snapshot is written after this many records ...
    public var snapshotEveryRecords = 100_000
    /// ... or this long after the last one, whichever comes first (when records were added).
    public var snapshotIntervalMicroseconds: Int64 = 300_000_000
    /// Snapshots kept in `DIR/snapshots`.
    public var snapshotsKept = 3
    /// How long after a failed append the registry reopens the log (and retries).
    public var recoveryIntervalMicroseconds: Int64 = 1_000_000
    /// Cluster mode: how long a committed write may wait for records other instances committed
    /// before it to reach this instance (the tail) before it answers unavailable: when the
    /// database goes away between the two, the wait would otherwise last the whole outage.
    public var foldWaitMicroseconds: Int64 = 1_500_000
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

    /// The pause between two sweeps of `run()`: `sweepIntervalMicroseconds`, but at most a quarter
    /// of the lease, so a sub-second lease (`--lease-ttl 500ms`) lapses on time and the pause
    /// itself stays well below the lateness that counts as a stall.
    public var effectiveSweepIntervalMicroseconds: Int64 {
        min(sweepIntervalMicroseconds, max(1_000, leaseTTLMicroseconds / 4))
    }

    /// Throws `RegistryConfigurationError` naming the first setting out of range.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw RegistryConfigurationError(message: message) }
        }
        try check(!dataDirectory.isEmpty, "the data directory must not be empty")
        try check(
            leaseTTLMicroseconds >= 100_000,
            "lease TTL \(leaseTTLMicroseconds) µs is below 100 ms; use at least 100ms (GOST renews every 15 s)")
        try check(freshWindowMicroseconds >= 0, "fresh window \(freshWindowMicroseconds) µs must not be negative")
        try check(
            (1_000...1_000_000).contains(sweepIntervalMicroseconds),
            "sweep interval \(sweepIntervalMicroseconds) µs must be between 1 ms and 1 s")
        try check((1...100_000).contains(expireBatchMax), "expire batch \(expireBatchMax) must be 1...100000")
        try check(snapshotEveryRecords >= 1, "snapshot every \(snapshotEveryRecords) records must be at least 1")
        try check(snapshotIntervalMicroseconds >= 1_000_000, "snapshot interval must be at least 1 s")
        try check((1...100).contains(snapshotsKept), "snapshots kept \(snapshotsKept) must be 1...100")
        try check(recoveryIntervalMicroseconds >= 0, "recovery interval must not be negative")
        try check(foldWaitMicroseconds > 0, "fold wait \(foldWaitMicroseconds) µs must be positive")
        try check(servicesMax >= 1, "services max \(servicesMax) must be at least 1")
        try check(getResultsMax >= 1, "Get results max \(getResultsMax) must be at least 1")
    }
}

/// A registry setting out of range: which, its value, and the allowed range.
public struct RegistryConfigurationError: Error, Equatable, CustomStringConvertible {
    public var message: String

    public var description: String { message }
}

/// Get's shuffles: `SplitMix64` when seeded (tests), the system generator otherwise.
struct RegistryRandom: RandomNumberGenerator {
    private var seeded: SplitMix64?
    private var system = SystemRandomNumberGenerator()

    init(seed: UInt64?) {
        seeded = seed.map(SplitMix64.init(seed:))
    }

    mutating func next() -> UInt64 {
        guard var generator = seeded else { return system.next() }
        defer { seeded = generator }
        return generator.next()
    }
}
