/// How an instance reaches the shared log and how it behaves on it. Only `url` and `instance`
/// are needed; the rest have defaults that suit production and are shortened by tests.
public struct SharedLogConfiguration: Sendable {
    /// `postgres://user:password@host:5432/database?sslmode=disable|prefer|require|verify-ca|verify-full`
    /// (README.md, "Cluster mode"); `sslrootcert=FILE` adds a CA for the verifying modes.
    public var url: String
    /// This instance's name, sent to PostgreSQL as `application_name` (the Registry records it in events).
    public var instance: String

    /// Every append answers within this many seconds, committed or failed (the database down never hangs a writer);
    /// half a second under the 2 s the README promises, for a busy machine's scheduling delays.
    public var writeTimeoutSeconds: Double = 1.5
    /// Most seconds a new connection may take (TCP, TLS and authentication).
    public var connectTimeoutSeconds: Double = 1.5
    /// Most seconds a read or a control statement may take before its connection is dropped.
    public var statementTimeoutSeconds: Double = 10
    /// The tail reads the log at least this often, whether or not a notification arrived.
    public var pollIntervalSeconds: Double = 1
    /// A follower tries to take the sweeper leadership this often; the leader checks its session this often.
    public var leaderCheckSeconds: Double = 1
    /// When false this instance never leads (readers, tools).
    public var participatesInLeadership = true

    /// zstd level of the rows written by appends.
    public var compressionLevel = 3
    /// The merger (run by the leader) rewrites batch rows older than this many seconds...
    public var mergeAgeSeconds: Double = 60
    /// ...holding fewer records than this each...
    public var mergeSmallRecordsMax = 1_024
    /// ...when at least this many of them follow each other...
    public var mergeRunRowsMin = 64
    /// ...into dense rows of at most this many records (large rows let zstd see every connector
    /// id many times: the first sight of an id is most of its cost)...
    public var mergeRecordsMax = 131_072
    /// ...compressed at this zstd level...
    public var mergeCompressionLevel = 12
    /// ...looking for work this often (0 disables the merger).
    public var mergeIntervalSeconds: Double = 10

    /// Most records one append statement carries (a group commit takes whole callers up to this).
    public var appendRecordsMax = 8_192
    /// Most append statements one instance keeps in flight, each on its own connection: while one
    /// waits for its commit (the head row is held through the WAL flush), the next group is
    /// already queued at the database behind it. More than one makes groups smaller: on a busy
    /// machine the cost per statement then outweighs the latency saved (README.md, "The shared log").
    public var appendStatementsInFlight = 1
    /// When true the tail (`records(after:)`) leaves out the commits this store's `append`
    /// acknowledged, reading and decoding only what other sessions wrote; for a consumer that
    /// takes its own appends from `append`'s answer, as the Registry does.
    public var tailOmitsOwnAppends = false

    /// A configuration with the defaults.
    public init(url: String, instance: String) {
        self.url = url
        self.instance = instance
    }
}

extension SharedLogConfiguration {
    /// `url` with its password replaced by `***`, for logs and messages.
    public static func redacted(_ url: String) -> String {
        DatabaseURL.redacted(url)
    }

    /// Checks the syntax of `url` without connecting (the server does it while parsing its
    /// options, before binding anything); throws the one-line `invalidURL` error `open` would.
    public static func validate(url: String) throws(SharedLogError) {
        _ = try DatabaseURL(url)
    }
}
