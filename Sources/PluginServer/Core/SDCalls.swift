import CoreMetrics
import Logging
import Registry

/// The four GOST calls, shared by both fronts: validate with the registry's own rules
/// (`RequestValidator`, so both fronts and the registry agree on every limit), call the
/// registry, count, and turn registry errors into `RequestFailure`. Input is checked before
/// the registry is asked, so bad input gets its 400 even while the log is being replayed.
public struct SDCalls: Sendable {
    let registry: RegistryHandle
    let metrics: ServerMetrics
    let logger: Logger

    public init(registry: RegistryHandle, metrics: ServerMetrics, logger: Logger) {
        self.registry = registry
        self.metrics = metrics
        self.logger = logger
    }

    /// True once the registry has replayed its log.
    public var isReady: Bool { registry.current != nil }

    public func register(_ fields: ServiceFields, peer: Peer) async throws(RequestFailure) {
        let service = try checked { () throws(RegistryError) in
            try RequestValidator.validateRegister(fields.service, peer: peer)
        }
        let registry = try openRegistry()
        try await committing {
            try await registry.register(service, peer: peer)
        }
        metrics.registers.increment()
    }

    public func renew(_ fields: ServiceFields, peer: Peer) async throws(RequestFailure) -> RenewOutcome {
        try checked { () throws(RegistryError) in
            try RequestValidator.validateKey(id: fields.id, name: fields.name, node: fields.node)
        }
        let registry = try openRegistry()
        let outcome = try await committing {
            try await registry.renew(id: fields.id, name: fields.name, node: fields.node, peer: peer)
        }
        metrics.renews.increment()
        if outcome == .notFound { metrics.renewsNotFound.increment() }
        return outcome
    }

    public func deregister(_ fields: ServiceFields, peer: Peer) async throws(RequestFailure) {
        try checked { () throws(RegistryError) in
            try RequestValidator.validateKey(id: fields.id, name: fields.name, node: fields.node)
        }
        let registry = try openRegistry()
        try await committing {
            try await registry.deregister(id: fields.id, name: fields.name, node: fields.node, peer: peer)
        }
        metrics.deregisters.increment()
    }

    public func get(name: String) async throws(RequestFailure) -> [Service] {
        try checked { () throws(RegistryError) in try RequestValidator.validateName(name) }
        let registry = try openRegistry()
        let services: [Service]
        do {
            services = try await registry.get(name: name)
        } catch {
            throw map(error)
        }
        (services.isEmpty ? metrics.getMisses : metrics.getHits).increment()
        return services
    }

    /// Live services now, for the gauge; nil before the registry is open.
    func liveServiceCount() async -> Int? {
        guard let registry = registry.current else { return nil }
        return await registry.liveServiceCount
    }

    /// The log writer's totals, for the log metrics; nil before the registry is open or when its
    /// store does not count them.
    func logWriteStatistics() -> StoreWriteStatistics? {
        registry.current?.logWriteStatistics
    }

    /// Runs a validation step, counting refusals in `tunnel_registry_rejected_requests_total`.
    private func checked<T>(_ body: () throws(RegistryError) -> T) throws(RequestFailure) -> T {
        do {
            return try body()
        } catch {
            metrics.rejected.increment()
            switch error {
            case .invalidArgument(let message): throw .invalid(message)
            case .unavailable(let message): throw .unavailable(message)
            }
        }
    }

    private func openRegistry() throws(RequestFailure) -> Registry {
        guard let registry = registry.current else {
            metrics.unavailable.increment()
            throw .unavailable("the registry is still replaying its log; retry in a moment")
        }
        return registry
    }

    private func committing<T>(_ body: () async throws -> T) async throws(RequestFailure) -> T {
        let start = ContinuousClock.now
        do {
            let value = try await body()
            metrics.commitLatency.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
            return value
        } catch {
            throw map(error)
        }
    }

    private func map(_ error: any Error) -> RequestFailure {
        switch error {
        case RegistryError.invalidArgument(let message):
            metrics.rejected.increment()
            logger.debug("registry refused a request", metadata: ["error": "\(message)"])
            return .invalid(message)
        case RegistryError.unavailable(let message):
            metrics.unavailable.increment()
            logger.warning("log write failed; answering unavailable", metadata: ["error": "\(message)"])
            return .unavailable("the event log cannot be written (\(message)); retry later")
        default:
            logger.error("registry call failed", metadata: ["error": "\(error)"])
            return .internalError("\(error)")
        }
    }
}
