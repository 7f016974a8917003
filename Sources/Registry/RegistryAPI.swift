// The public value types of Registry that PluginServer and tunnel-replay build on. The codec,
// the projection, snapshots, the store protocol and the Registry actor live in their own files.

/// A service as GOST sees it: one connector of tunnel `name` on node `node`.
public struct Service: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var node: String
    public var network: String
    public var address: String

    public init(id: String, name: String, node: String, network: String, address: String) {
        self.id = id
        self.name = name
        self.node = node
        self.network = network
        self.address = address
    }
}

/// The caller of a request, as the front saw it: used to fill host-less addresses and
/// recorded as `peer` in every event.
public struct Peer: Sendable, Hashable {
    /// The caller's IP (`10.0.0.5`, `::1`), without brackets; nil when unknown.
    public var ip: String?
    public var port: Int?

    public init(ip: String?, port: Int?) {
        self.ip = ip
        self.port = port
    }
}

/// The kind of a log record. The first four are service events; the others record what
/// decides expiry (the lease TTL in force, a start granting restored leases a fresh TTL, a
/// stall that extended leases) so the replay tool computes expiry exactly.
public enum EventKind: String, Sendable, CaseIterable, Codable {
    case register, renew, deregister, expire
    /// Server start: `leaseTTLMicroseconds` is in force and every restored lease is fresh.
    case start
    /// The sweeper found the registry stalled longer than a lease: leases were extended.
    case stall

    /// True for register, renew, deregister and expire.
    public var isServiceEvent: Bool {
        switch self {
        case .register, .renew, .deregister, .expire: return true
        case .start, .stall: return false
        }
    }
}

/// One decoded log record: what happened, when (the log's commit time), and who asked.
public struct RegistryEvent: Sendable, Equatable {
    public var sequence: UInt64
    public var timeMicroseconds: Int64
    public var kind: EventKind
    /// id, name, node, network, address as recorded (empty strings where not sent).
    public var service: Service
    /// The caller, `ip:port` (`[::1]:5000` for IPv6); empty for expire and control records.
    public var peer: String
    /// Expire: the instant the lease lapsed.
    public var lapsedAtMicroseconds: Int64?
    /// Start and stall: the lease TTL in force from this record on.
    public var leaseTTLMicroseconds: Int64?
    /// Expire: the sequence of the register or renew that started the lapsed lease; the fold
    /// ignores the expire when the lease was renewed after it (a late sweep in a cluster).
    public var renewSequence: UInt64?
    /// The registry instance that logged the record (cluster mode); empty when standalone.
    public var instance: String

    public init(
        sequence: UInt64, timeMicroseconds: Int64, kind: EventKind, service: Service, peer: String,
        lapsedAtMicroseconds: Int64? = nil, leaseTTLMicroseconds: Int64? = nil, renewSequence: UInt64? = nil,
        instance: String = ""
    ) {
        self.sequence = sequence
        self.timeMicroseconds = timeMicroseconds
        self.kind = kind
        self.service = service
        self.peer = peer
        self.lapsedAtMicroseconds = lapsedAtMicroseconds
        self.leaseTTLMicroseconds = leaseTTLMicroseconds
        self.renewSequence = renewSequence
        self.instance = instance
    }
}

/// A live service in the projection, with the instants that decide its lease.
public struct LiveService: Sendable, Equatable {
    public var service: Service
    public var registeredAtMicroseconds: Int64
    public var lastRenewAtMicroseconds: Int64
    public var leaseExpiresAtMicroseconds: Int64
    /// The sequence of the register or renew that set the lease (0 when unknown: a snapshot
    /// written before the field existed).
    public var lastRenewSequence: UInt64

    public init(
        service: Service, registeredAtMicroseconds: Int64, lastRenewAtMicroseconds: Int64,
        leaseExpiresAtMicroseconds: Int64, lastRenewSequence: UInt64 = 0
    ) {
        self.service = service
        self.registeredAtMicroseconds = registeredAtMicroseconds
        self.lastRenewAtMicroseconds = lastRenewAtMicroseconds
        self.leaseExpiresAtMicroseconds = leaseExpiresAtMicroseconds
        self.lastRenewSequence = lastRenewSequence
    }
}

/// What a Renew found.
public enum RenewOutcome: Sendable, Equatable {
    /// The lease was live and is extended.
    case renewed
    /// The lease had lapsed without a deregister; the service is live again with its last
    /// known network and address.
    case revived
    /// No such service was ever seen (or it was deregistered): logged, nothing changed.
    case notFound
}

/// How Get orders the services it returns.
public enum GetOrder: String, Sendable, CaseIterable {
    /// Recently renewed first, shuffled within each tier (the default).
    case freshest
    /// All live services shuffled.
    case shuffle
}

/// Failures a front maps to a status: invalid input → 400 / INVALID_ARGUMENT, log write
/// failures → 503 / UNAVAILABLE.
public enum RegistryError: Error, Equatable, CustomStringConvertible {
    case invalidArgument(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidArgument(let message): return message
        case .unavailable(let message): return message
        }
    }
}
