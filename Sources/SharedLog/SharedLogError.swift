/// Every failure of the shared log, as one line that says what failed, with which value (host,
/// database, sequence), and what to do. Framework errors never reach callers unwrapped.
public struct SharedLogError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, for callers that react differently (the server maps `unavailable` and
    /// `timeout` to 503 / UNAVAILABLE; `notLeader` stops the sweeper).
    public enum Kind: Sendable, Equatable {
        /// The `--postgres` URL could not be parsed or names an unsupported option.
        case invalidURL
        /// PostgreSQL refused the credentials.
        case authentication
        /// PostgreSQL could not be reached or dropped the connection.
        case unavailable
        /// PostgreSQL did not answer in time.
        case timeout
        /// The database holds a schema newer than this build understands.
        case schemaTooNew
        /// This instance no longer holds the sweeper leadership (fencing).
        case notLeader
        /// A stored batch or snapshot failed its checks.
        case corrupt
        /// PostgreSQL answered with an error to a statement.
        case database
        /// The store was closed.
        case closed
    }

    /// What went wrong.
    public var kind: Kind
    /// The one-line message.
    public var description: String

    /// An error of `kind` with the complete one-line message.
    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// True for failures that pass by themselves (the database down, restarting or slow).
    public var isTransient: Bool {
        kind == .unavailable || kind == .timeout
    }
}
