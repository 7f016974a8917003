import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Hummingbird
import Logging
import NIOCore
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

/// The reference servers `front-bench` measures the registry's fronts against, with no
/// registry behind them: `front-bench-refs http` is a bare Hummingbird route that decodes
/// GOST's renew JSON and answers 200; `front-bench-refs grpc` is a bare grpc-swift-2 `proto.SD`
/// service that answers `ok`. Each binds 127.0.0.1 on a free port and prints
/// `listening on HOST:PORT` on stdout.
@main
struct FrontBenchRefs {
    static func main() async throws {
        switch CommandLine.arguments.dropFirst().first {
        case "http": try await serveHTTP()
        case "grpc": try await serveGRPC()
        default:
            output("usage: front-bench-refs http|grpc (started by front-bench)\n", to: STDERR_FILENO)
            exit(2)
        }
    }

    static func announce(_ address: String) {
        output("listening on \(address)\n", to: STDOUT_FILENO)
    }

    static func output(_ text: String, to descriptor: Int32) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    static func serveHTTP() async throws {
        let router = Router()
        router.put("/sd") { request, context -> HTTPResponse.Status in
            let service = try await request.decode(as: RenewBody.self, context: context)
            guard !service.id.isEmpty else { return .badRequest }
            return .ok
        }
        var logger = Logger(label: "front-bench-refs")
        logger.logLevel = .warning
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                announce("127.0.0.1:\(channel.localAddress?.port ?? 0)")
            },
            logger: logger
        )
        try await application.runService()
    }

    static func serveGRPC() async throws {
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext
        )
        let server = GRPCServer(transport: transport, services: [BareSD()])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            let address = try await server.transport.listeningAddress
            announce(address.ipv4.map { "\($0.host):\($0.port)" } ?? "\(address)")
        }
    }
}

/// GOST's renew JSON as a bare route decodes it.
struct RenewBody: Decodable {
    var id: String
    var name: String
    var node: String?
    var network: String?
    var address: String?
}

/// `proto.SD` answering `ok` to everything, with no registry.
struct BareSD: Proto_SD.SimpleServiceProtocol {
    func register(request: Proto_RegisterRequest, context: ServerContext) async throws -> Proto_RegisterReply {
        .with { $0.ok = true }
    }

    func deregister(request: Proto_DeregisterRequest, context: ServerContext) async throws -> Proto_DeregisterReply {
        .with { $0.ok = true }
    }

    func renew(request: Proto_RenewRequest, context: ServerContext) async throws -> Proto_RenewReply {
        .with { $0.ok = !request.service.id.isEmpty }
    }

    func get(request: Proto_GetServiceRequest, context: ServerContext) async throws -> Proto_GetServiceReply {
        Proto_GetServiceReply()
    }
}
