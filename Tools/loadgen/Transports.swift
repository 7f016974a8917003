import AsyncHTTPClient
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOHTTP1
import PluginServer
import SwiftProtobuf

/// One simulated connector as GOST describes it to the plugin.
struct LoadService: Sendable {
    var id: String
    var name: String
    var node: String
    var network = "tcp"
    var address = ":80"
}

/// One client connection to the plugin; each call answers whether the server said OK.
protocol SDConnection: Sendable {
    func register(_ service: LoadService) async -> Bool
    func renew(_ service: LoadService) async -> Bool
    func deregister(_ service: LoadService) async -> Bool
    func get(name: String) async -> Bool
}

/// Opens `count` connections of the chosen protocol for the duration of a body.
struct TransportFactory: Sendable {
    var `protocol`: SDProtocol
    var http: Endpoint
    var httpPath: String
    var grpc: Endpoint
    var token: String?

    func withConnections<Result: Sendable>(
        count: Int, _ body: @Sendable ([any SDConnection]) async throws -> Result
    ) async throws -> Result {
        switch `protocol` {
        case .http: return try await withHTTP(count: count, body)
        case .grpc: return try await withGRPC(count: count, body)
        }
    }

    private func withHTTP<Result: Sendable>(
        count: Int, _ body: @Sendable ([any SDConnection]) async throws -> Result
    ) async throws -> Result {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: count)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let connection = HTTPConnection(client: client, url: "http://\(http.host):\(http.port)\(httpPath)", token: token)
        do {
            let result = try await body(Array(repeating: connection, count: count))
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func withGRPC<Result: Sendable>(
        count: Int, _ body: @Sendable ([any SDConnection]) async throws -> Result
    ) async throws -> Result {
        let clients = try (0..<count).map { _ in
            GRPCClient(
                transport: try HTTP2ClientTransport.Posix(
                    target: .ipv4(address: grpc.host, port: grpc.port), transportSecurity: .plaintext
                )
            )
        }
        var metadata = Metadata()
        if let token { metadata.addString(token, forKey: "token") }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { try await client.runConnections() }
            }
            let connections: [any SDConnection] = clients.map {
                GRPCConnection(client: Proto_SD.Client(wrapping: $0), metadata: metadata)
            }
            let result: Result
            do {
                result = try await body(connections)
            } catch {
                clients.forEach { $0.beginGracefulShutdown() }
                throw error
            }
            clients.forEach { $0.beginGracefulShutdown() }
            try await group.waitForAll()
            return result
        }
    }
}

/// The HTTP plugin over AsyncHTTPClient's pool (one connection per concurrent caller).
struct HTTPConnection: SDConnection {
    let client: HTTPClient
    let url: String
    let token: String?

    func register(_ service: LoadService) async -> Bool {
        await send(.POST, body: json(service, full: true))
    }

    func renew(_ service: LoadService) async -> Bool {
        await send(.PUT, body: json(service, full: false))
    }

    func deregister(_ service: LoadService) async -> Bool {
        await send(.DELETE, body: json(service, full: false))
    }

    func get(name: String) async -> Bool {
        await send(.GET, query: "?name=\(name)")
    }

    private func send(_ method: HTTPMethod, body: String? = nil, query: String = "") async -> Bool {
        var request = HTTPClientRequest(url: url + query)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            return response.status == .ok
        } catch {
            return false
        }
    }

    private func json(_ service: LoadService, full: Bool) -> String {
        let base = #"{"id":""# + service.id + #"","name":""# + service.name + #"","node":""# + service.node + "\""
        guard full else { return base + "}" }
        return base + #","network":""# + service.network + #"","address":""# + service.address + "\"}"
    }
}

/// The gRPC plugin over one grpc-swift-2 client (one HTTP/2 connection).
struct GRPCConnection: SDConnection {
    let client: Proto_SD.Client<HTTP2ClientTransport.Posix>
    let metadata: Metadata

    func register(_ service: LoadService) async -> Bool {
        (try? await client.register(.with { $0.service = proto(service, full: true) }, metadata: metadata).ok) ?? false
    }

    func renew(_ service: LoadService) async -> Bool {
        (try? await client.renew(.with { $0.service = proto(service, full: false) }, metadata: metadata).ok) ?? false
    }

    func deregister(_ service: LoadService) async -> Bool {
        (try? await client.deregister(.with { $0.service = proto(service, full: false) }, metadata: metadata).ok)
            ?? false
    }

    func get(name: String) async -> Bool {
        (try? await client.get(.with { $0.name = name }, metadata: metadata)) != nil
    }

    private func proto(_ service: LoadService, full: Bool) -> Proto_Service {
        .with {
            $0.id = service.id
            $0.name = service.name
            $0.node = service.node
            if full {
                $0.network = service.network
                $0.address = service.address
            }
        }
    }
}
