// CONTRACT SKELETON: the public surface of Registry that PluginServer and tunnel-replay build
// on. The Registry owner replaces this stub (an in-memory map, no log, no leases) with the
// real event-sourced implementation and may split the file; the shapes here should stay.
import EventLog
import Logging

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

    public init(
        sequence: UInt64, timeMicroseconds: Int64, kind: EventKind, service: Service, peer: String,
        lapsedAtMicroseconds: Int64? = nil, leaseTTLMicroseconds: Int64? = nil
    ) {
        self.sequence = sequence
        self.timeMicroseconds = timeMicroseconds
        self.kind = kind
        self.service = service
        self.peer = peer
        self.lapsedAtMicroseconds = lapsedAtMicroseconds
        self.leaseTTLMicroseconds = leaseTTLMicroseconds
    }
}

/// The versioned binary codec between `RegistryEvent` and log record payloads.
public enum EventCodec {
    /// The payload for an event (sequence and time come from the log, not the payload).
    public static func encode(_ event: RegistryEvent) -> [UInt8] {
        fatalError("not implemented")
    }

    /// The event a log record holds. Throws on an unknown version or a malformed payload.
    public static func decode(_ record: LogRecord) throws -> RegistryEvent {
        fatalError("not implemented")
    }
}

/// A live service in the projection, with the instants that decide its lease.
public struct LiveService: Sendable, Equatable {
    public var service: Service
    public var registeredAtMicroseconds: Int64
    public var lastRenewAtMicroseconds: Int64
    public var leaseExpiresAtMicroseconds: Int64

    public init(service: Service, registeredAtMicroseconds: Int64, lastRenewAtMicroseconds: Int64,
                leaseExpiresAtMicroseconds: Int64) {
        self.service = service
        self.registeredAtMicroseconds = registeredAtMicroseconds
        self.lastRenewAtMicroseconds = lastRenewAtMicroseconds
        self.leaseExpiresAtMicroseconds = leaseExpiresAtMicroseconds
    }
}

/// The pure fold of the log: the server and the replay tool both apply events to it.
public struct Projection: Sendable, Equatable {
    public init() {}

    /// The sequence of the last applied record (0 before any).
    public private(set) var lastSequence: UInt64 = 0

    /// Folds one record into the view.
    public mutating func apply(_ event: RegistryEvent) {
        lastSequence = event.sequence
    }

    /// Every service whose lease is unexpired at `timeMicroseconds`.
    public func liveServices(at timeMicroseconds: Int64) -> [LiveService] {
        []
    }

    /// The unexpired services of tunnel `name` at `timeMicroseconds`.
    public func liveServices(named name: String, at timeMicroseconds: Int64) -> [LiveService] {
        []
    }
}

/// The snapshots of a data directory (`DATA/snapshots`), readable without the writer lock.
public struct SnapshotStore: Sendable {
    public init(directory: String) {}

    /// Sequences of the snapshots present, oldest first (valid or not).
    public func sequences() throws -> [UInt64] {
        []
    }

    /// The projection stored at `sequence`; throws when the snapshot is damaged.
    public func load(sequence: UInt64) throws -> Projection {
        Projection()
    }
}

/// What a Renew found.
public enum RenewOutcome: Sendable, Equatable {
    case renewed
    case revived
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

/// Settings of a registry. Durations in microseconds.
public struct RegistryConfiguration: Sendable {
    /// The data directory; the log lives in `DIR/log`, snapshots in `DIR/snapshots`.
    public var dataDirectory: String
    public var leaseTTLMicroseconds: Int64 = 45_000_000
    public var getOrder: GetOrder = .freshest
    public var fsync: FsyncPolicy = .always
    public var segmentBytesMax: Int = 64 << 20

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }
}

/// The registry: validates requests, logs them durably, and answers Get from the projection.
public actor Registry {
    private var services: [String: [String: Service]] = [:]
    private let configuration: RegistryConfiguration

    /// Opens the data directory: takes the log lock, replays snapshot + tail.
    public static func open(
        _ configuration: RegistryConfiguration,
        logger: Logger
    ) async throws -> Registry {
        Registry(configuration: configuration)
    }

    private init(configuration: RegistryConfiguration) {
        self.configuration = configuration
    }

    /// Registers (upserts) a service and starts its lease. Throws `RegistryError`.
    public func register(_ service: Service, peer: Peer) async throws {
        guard !service.id.isEmpty, !service.name.isEmpty, !service.node.isEmpty else {
            throw RegistryError.invalidArgument("id, name and node must not be empty")
        }
        services[service.name, default: [:]][service.id] = service
    }

    /// Renews the lease of (name, id); `node` is recorded. Throws `RegistryError`.
    public func renew(id: String, name: String, node: String, peer: Peer) async throws -> RenewOutcome {
        services[name]?[id] == nil ? .notFound : .renewed
    }

    /// Removes (name, id); unknown services are fine. Throws `RegistryError`.
    public func deregister(id: String, name: String, node: String, peer: Peer) async throws {
        services[name]?[id] = nil
    }

    /// The live services of `name`, in the configured order. Throws on an empty name.
    public func get(name: String) throws -> [Service] {
        guard !name.isEmpty else { throw RegistryError.invalidArgument("name must not be empty") }
        return Array(services[name, default: [:]].values)
    }

    /// Live services in total (for metrics).
    public var liveServiceCount: Int { services.values.reduce(0) { $0 + $1.count } }

    /// Runs the lease sweeper and periodic snapshots until the task is cancelled.
    public func run() async throws {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Writes a final snapshot, fsyncs and closes the log.
    public func close() async throws {}
}
