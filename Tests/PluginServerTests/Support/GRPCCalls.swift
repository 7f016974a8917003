import NIOHTTP1
import SwiftProtobuf
import GRPCCore
import GRPCNIOTransportHTTP2
import PluginServer

/// Runs `body` with a grpc-swift-2 client of `proto.SD` connected to 127.0.0.1:`port`.
func withSDClient<Result: Sendable>(
    port: Int,
    tls: Bool = false,
    _ body: (Proto_SD.Client<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    let security: HTTP2ClientTransport.Posix.TransportSecurity =
        tls ? .tls { $0.serverCertificateVerification = .noVerification } : .plaintext
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port),
        transportSecurity: security
    )
    return try await withGRPCClient(transport: transport) { client in
        try await body(Proto_SD.Client(wrapping: client))
    }
}

/// A `Proto_Service` with the given fields.
func protoService(id: String, name: String, node: String = "node-1", network: String = "", address: String = "")
    -> Proto_Service
{
    .with {
        $0.id = id
        $0.name = name
        $0.node = node
        $0.network = network
        $0.address = address
    }
}

/// The gRPC status code an operation failed with, or nil when it succeeded.
func rpcCode(_ operation: () async throws -> Void) async -> RPCError.Code? {
    do {
        try await operation()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}
