import CoreMetrics
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Registry

/// Answers GOST's HTTP plugin calls at the configured path, plus `/healthz`, `/readyz` and
/// `/metrics`. Every refusal carries `{"error":"..."}` saying what is wrong and what to send.
struct SDResponder: HTTPResponder {
    typealias Context = PeerRequestContext

    let path: String
    let calls: SDCalls
    let token: TokenCheck?
    let limits: RequestLimits
    let metricsText: (@Sendable () async -> String)?
    let logger: Logger

    func respond(to request: Request, context: PeerRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        var call = ServerMetrics.Call.other
        let response: Response
        switch request.uri.path {
        case path:
            call = Self.callName(request.method)
            response = await serveSD(request, context: context)
        case "/healthz":
            response = onlyGet(request) ?? Self.json(.ok, #"{"status":"ok"}"#)
        case "/readyz":
            response =
                onlyGet(request)
                ?? (calls.isReady
                    ? Self.json(.ok, #"{"status":"ready"}"#)
                    : Self.error(.serviceUnavailable, "the registry is still replaying its log; retry in a moment"))
        case "/metrics":
            if let refusal = onlyGet(request) {
                response = refusal
            } else {
                response = await metrics()
            }
        default:
            response = Self.error(
                .notFound, "no such path \(request.uri.path); GOST's plugin URL is \(path), also /healthz /readyz /metrics"
            )
        }
        calls.metrics.recordRequest(.http, call, since: start)
        return response
    }

    private func serveSD(_ request: Request, context: PeerRequestContext) async -> Response {
        if let token, !token.matchesBearer(request.headers[.authorization]) {
            var response = Self.error(
                .unauthorized, "missing or wrong token; send the header Authorization: Bearer <token>"
            )
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        do {
            switch request.method {
            case .get:
                let name = FormQuery.value(of: "name", in: request.uri.query) ?? ""
                let services = try await calls.get(name: name)
                return Self.json(.ok, WireJSON.encodeServices(services))
            case .post:
                try await calls.register(try await body(request, example: WireJSON.example), peer: context.peer)
                return Self.ok()
            case .put:
                let fields = try await body(request, example: WireJSON.keyExample)
                let outcome = try await calls.renew(fields, peer: context.peer)
                guard outcome != .notFound else {
                    return Self.error(.notFound, Self.notRegistered)
                }
                return Self.ok()
            case .delete:
                let fields = try await body(request, example: WireJSON.keyExample)
                try await calls.deregister(fields, peer: context.peer)
                return Self.ok()
            default:
                var response = Self.error(
                    .methodNotAllowed,
                    "method \(request.method) is not used by GOST; send POST (register), PUT (renew), "
                        + "DELETE (deregister) or GET ?name= (get)"
                )
                response.headers[.allow] = "GET, POST, PUT, DELETE"
                return response
            }
        } catch {
            return Self.response(for: error, logger: logger)
        }
    }

    /// The 404 of a Renew the registry cannot renew or revive.
    static let notRegistered =
        "not registered (never registered, deregistered or expired and forgotten); register it with POST"

    /// Reads the whole body, refusing more than the limit; `example` is the body this call needs.
    private func body(_ request: Request, example: String) async throws(RequestFailure) -> ServiceFields {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limits.bodyBytesMax)
        } catch is NIOTooManyBytesError {
            calls.metrics.rejected.increment()
            throw .tooLarge("the body is larger than \(limits.bodyBytesMax) bytes; send one small JSON object")
        } catch {
            throw .invalid("the body could not be read (\(error)); send the whole JSON object, e.g. \(example)")
        }
        // GOST's bodies are flat objects of plain strings: read them in place; anything else
        // goes through JSONDecoder, which also words the refusals.
        if let fields = buffer.withUnsafeReadableBytes({ FlatJSON.decode($0) }) {
            return fields
        }
        do {
            return try WireJSON.decodeService(Array(buffer.readableBytesView), example: example)
        } catch {
            calls.metrics.rejected.increment()
            throw error
        }
    }

    private func metrics() async -> Response {
        guard let metricsText else {
            return Self.error(.notFound, "metrics are not enabled on this server")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: await metricsText())))
    }

    private func onlyGet(_ request: Request) -> Response? {
        guard request.method != .get, request.method != .head else { return nil }
        var response = Self.error(.methodNotAllowed, "\(request.uri.path) answers GET only")
        response.headers[.allow] = "GET"
        return response
    }

    static func response(for failure: RequestFailure, logger: Logger) -> Response {
        switch failure {
        case .invalid(let message):
            return error(.badRequest, message)
        case .tooLarge(let message):
            return error(.contentTooLarge, message)
        case .unavailable(let message):
            var response = error(.serviceUnavailable, message)
            response.headers[.retryAfter] = "1"
            return response
        case .internalError(let message):
            logger.error("internal error answering a request", metadata: ["error": "\(message)"])
            return error(.internalServerError, "internal error; see the server log")
        }
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: jsonHeaders, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `{"ok":true}`, the answer to every accepted write, from buffers made once.
    static func ok() -> Response {
        Response(status: .ok, headers: jsonHeaders, body: .init(byteBuffer: okBody))
    }

    private static let jsonHeaders: HTTPFields = [.contentType: "application/json"]
    private static let okBody = ByteBuffer(string: #"{"ok":true}"#)

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(status, WireJSON.encodeError(message))
    }

    static func callName(_ method: HTTPRequest.Method) -> ServerMetrics.Call {
        switch method {
        case .post: return .register
        case .put: return .renew
        case .delete: return .deregister
        case .get: return .get
        default: return .other
        }
    }
}

