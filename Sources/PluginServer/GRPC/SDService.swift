import CoreMetrics
import GRPCCore
import Logging
import NIOPosix
import Registry
import SwiftProtobuf

/// GOST's gRPC plugin service `proto.SD`. Register/Deregister/Renew answer `ok: true`;
/// Renew of a never-seen service answers `ok: false`; bad input is INVALID_ARGUMENT and a
/// log write failure UNAVAILABLE. The token is checked by `TokenInterceptor` before this.
struct SDService: Proto_SD.SimpleServiceProtocol {
    let calls: SDCalls
    let logger: Logger

    func register(request: Proto_RegisterRequest, context: ServerContext) async throws -> Proto_RegisterReply {
        let start = ContinuousClock.now
        defer { calls.metrics.recordRequest(.grpc, .register, since: start) }
        try await run { () async throws(RequestFailure) in try await calls.register(Self.fields(request.service), peer: Self.peer(context)) }
        return .with { $0.ok = true }
    }

    func deregister(request: Proto_DeregisterRequest, context: ServerContext) async throws -> Proto_DeregisterReply {
        let start = ContinuousClock.now
        defer { calls.metrics.recordRequest(.grpc, .deregister, since: start) }
        try await run { () async throws(RequestFailure) in try await calls.deregister(Self.fields(request.service), peer: Self.peer(context)) }
        return .with { $0.ok = true }
    }

    func renew(request: Proto_RenewRequest, context: ServerContext) async throws -> Proto_RenewReply {
        let start = ContinuousClock.now
        defer { calls.metrics.recordRequest(.grpc, .renew, since: start) }
        let outcome = try await run { () async throws(RequestFailure) -> RenewOutcome in
            try await calls.renew(Self.fields(request.service), peer: Self.peer(context))
        }
        return .with { $0.ok = outcome != .notFound }
    }

    func get(request: Proto_GetServiceRequest, context: ServerContext) async throws -> Proto_GetServiceReply {
        let start = ContinuousClock.now
        defer { calls.metrics.recordRequest(.grpc, .get, since: start) }
        let services = try await run { () async throws(RequestFailure) -> [Service] in try await calls.get(name: request.name) }
        return .with { reply in
            reply.services = services.map { service in
                .with {
                    $0.id = service.id
                    $0.name = service.name
                    $0.node = service.node
                    $0.network = service.network
                    $0.address = service.address
                }
            }
        }
    }

    /// Runs a call, turning `RequestFailure` into the RPC status GOST sees. The call is pinned to
    /// the loop it starts on (its stream's, `EventLoopTaskExecutor`): the log's writer resumes it
    /// there, and the reply is written from there.
    private func run<T>(_ body: () async throws(RequestFailure) -> T) async throws(RPCError) -> T {
        do {
            guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return try await body() }
            return try await withTaskExecutorPreference(EventLoopTaskExecutor(pinnedTo: loop)) { () async throws(RequestFailure) -> T in
                try await body()
            }
        } catch {
            switch error {
            case .invalid(let message):
                throw RPCError(code: .invalidArgument, message: message)
            case .tooLarge(let message):
                throw RPCError(code: .resourceExhausted, message: message)
            case .unavailable(let message):
                throw RPCError(code: .unavailable, message: message)
            case .internalError(let message):
                logger.error("internal error answering an RPC", metadata: ["error": "\(message)"])
                throw RPCError(code: .internalError, message: "internal error; see the server log")
            }
        }
    }

    static func fields(_ service: Proto_Service) -> ServiceFields {
        ServiceFields(
            id: service.id, name: service.name, node: service.node, network: service.network, address: service.address
        )
    }

    /// The caller from grpc-swift's `remotePeer` (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`).
    static func peer(_ context: ServerContext) -> Peer {
        GRPCPeer.parse(context.remotePeer)
    }
}

/// Parses grpc-swift's textual peer description into a `Peer`.
enum GRPCPeer {
    static func parse(_ text: String) -> Peer {
        let rest: Substring
        if text.hasPrefix("ipv4:") || text.hasPrefix("ipv6:") {
            rest = text.dropFirst(5)
        } else {
            return Peer(ip: nil, port: nil)
        }
        guard let (host, port) = HostPort.split(String(rest)), !host.isEmpty else {
            return Peer(ip: nil, port: nil)
        }
        return Peer(ip: host, port: Int(port))
    }
}

/// Refuses every RPC whose metadata key `token` is not the configured token (GOST sends
/// its plugin token there, not as a bearer header).
struct TokenInterceptor: ServerInterceptor {
    let token: TokenCheck

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let presented = request.metadata[stringValues: "token"].first(where: { _ in true })
        guard let presented, token.matches(presented.utf8) else {
            throw RPCError(code: .unauthenticated, message: "missing or wrong token; send it as gRPC metadata key \"token\"")
        }
        return try await next(request, context)
    }
}
