import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP exchange's result: status code and body text.
struct HTTPReply: Sendable {
    var status: Int
    var body: String
    var headers: HTTPHeaders

    /// The `services` array of a Get reply, decoded.
    var services: [[String: String]] {
        guard let data = body.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = object["services"] as? [[String: String]]
        else { return [] }
        return list
    }

    /// The `error` message of a refusal.
    var error: String? {
        guard let data = body.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["error"] as? String
    }
}

/// Small helpers over AsyncHTTPClient for talking to the server like GOST does.
struct HTTPCalls: Sendable {
    let base: String
    var path = "/sd"
    var token: String?
    var client: HTTPClient = .shared

    /// Sends `body` (raw bytes) with `method` to `path` (default: the plugin path).
    func send(
        _ method: HTTPMethod, body: [UInt8]? = nil, query: String = "", at otherPath: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: base + (otherPath ?? path) + query)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let buffer = try await response.body.collect(upTo: 4 << 20)
        return HTTPReply(status: Int(response.status.code), body: String(buffer: buffer), headers: response.headers)
    }

    func send(_ method: HTTPMethod, json: String) async throws -> HTTPReply {
        try await send(method, body: Array(json.utf8))
    }

    func register(id: String, name: String, node: String = "node-1", network: String = "tcp", address: String)
        async throws -> HTTPReply
    {
        try await send(.POST, json: Self.json(["id": id, "name": name, "node": node, "network": network, "address": address]))
    }

    func renew(id: String, name: String, node: String = "node-1") async throws -> HTTPReply {
        try await send(.PUT, json: Self.json(["id": id, "name": name, "node": node]))
    }

    func deregister(id: String, name: String, node: String = "node-1") async throws -> HTTPReply {
        try await send(.DELETE, json: Self.json(["id": id, "name": name, "node": node]))
    }

    /// Get, with the name encoded as GOST's Go client does (`url.Values.Encode`: space as `+`).
    func get(name: String) async throws -> HTTPReply {
        try await send(.GET, query: "?name=\(Self.formEncoded(name))")
    }

    /// `application/x-www-form-urlencoded` as Go's `url.QueryEscape` writes it.
    static func formEncoded(_ text: String) -> String {
        var unreserved = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        unreserved.insert(charactersIn: "-._~ ")
        let escaped = text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
        return escaped.replacingOccurrences(of: " ", with: "+")
    }

    static func json(_ fields: [String: String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
