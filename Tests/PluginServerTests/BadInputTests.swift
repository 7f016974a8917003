import NIOHTTP1
import SwiftProtobuf
import Foundation
import Testing

/// Hostile and mistaken HTTP input: each gets a 4xx with a JSON error and nothing is stored.
@Suite struct BadInputTests {
    /// A bad request body, the status it must get, and why it matters.
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var method: String
        var body: [UInt8]
        var status: Int
        var testDescription: String { label }
    }

    static let longValue = String(repeating: "x", count: 300)

    static let cases: [Case] = [
        Case(label: "malformed JSON", method: "POST", body: Array(#"{"id":"a","name":"#.utf8), status: 400),
        Case(label: "not an object", method: "POST", body: Array(#"["a","b"]"#.utf8), status: 400),
        Case(label: "empty body", method: "POST", body: [], status: 400),
        Case(
            label: "id is a number", method: "POST",
            body: Array(#"{"id":5,"name":"t","node":"n","network":"tcp","address":":80"}"#.utf8), status: 400),
        Case(
            label: "name is null", method: "POST",
            body: Array(#"{"id":"a","name":null,"node":"n","network":"tcp","address":":80"}"#.utf8), status: 400),
        Case(
            label: "address is an object", method: "POST",
            body: Array(#"{"id":"a","name":"t","node":"n","network":"tcp","address":{}}"#.utf8), status: 400),
        Case(
            label: "missing node", method: "POST",
            body: Array(#"{"id":"a","name":"t","network":"tcp","address":":80"}"#.utf8), status: 400),
        Case(label: "missing everything", method: "POST", body: Array("{}".utf8), status: 400),
        Case(
            label: "unknown network", method: "POST",
            body: Array(#"{"id":"a","name":"t","node":"n","network":"sctp","address":":80"}"#.utf8), status: 400),
        Case(
            label: "unparsable address", method: "POST",
            body: Array(#"{"id":"a","name":"t","node":"n","network":"tcp","address":"10.0.0.1"}"#.utf8), status: 400),
        Case(
            label: "port out of range", method: "POST",
            body: Array(#"{"id":"a","name":"t","node":"n","network":"tcp","address":"10.0.0.1:70000"}"#.utf8),
            status: 400),
        Case(
            label: "bad IPv6", method: "POST",
            body: Array(#"{"id":"a","name":"t","node":"n","network":"tcp","address":"[zz::1]:80"}"#.utf8), status: 400),
        Case(
            label: "empty address", method: "POST",
            body: Array(#"{"id":"a","name":"t","node":"n","network":"tcp","address":""}"#.utf8), status: 400),
        Case(
            label: "oversized id", method: "POST",
            body: Array(#"{"id":"\#(longValue)","name":"t","node":"n","network":"tcp","address":":80"}"#.utf8),
            status: 400),
        Case(
            label: "oversized name on renew", method: "PUT",
            body: Array(#"{"id":"a","name":"\#(longValue)","node":"n"}"#.utf8), status: 400),
        Case(
            label: "control character in id", method: "POST",
            body: Array(#"{"id":"a\nb","name":"t","node":"n","network":"tcp","address":":80"}"#.utf8), status: 400),
        Case(
            label: "invalid UTF-8", method: "POST",
            body: Array(#"{"id":"a"#.utf8) + [0xFF, 0xFE] + Array(#"","name":"t","node":"n","network":"tcp","address":":80"}"#.utf8),
            status: 400),
        Case(label: "renew without id", method: "PUT", body: Array(#"{"name":"t","node":"n"}"#.utf8), status: 400),
        Case(label: "deregister without name", method: "DELETE", body: Array(#"{"id":"a"}"#.utf8), status: 400),
        Case(
            label: "oversized body", method: "POST",
            body: Array(#"{"id":"a","name":"t","node":"n","network":"tcp","address":":80","pad":""#.utf8)
                + Array(repeating: UInt8(ascii: "x"), count: 70_000) + Array(#""}"#.utf8),
            status: 413),
    ]

    @Test func eachBadInputIsRefusedWithAMessageAndNotStored() async throws {
        // Proves every case in `cases` gets its 4xx with a JSON error, and none registers anything.
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let http = HTTPCalls(base: server.httpBase)
        for testCase in Self.cases {
            let reply = try await http.send(.init(rawValue: testCase.method), body: testCase.body)
            #expect(reply.status == testCase.status, "\(testCase.label): \(reply.body)")
            #expect(reply.error?.isEmpty == false, "\(testCase.label) has no JSON error: \(reply.body)")
        }
        #expect(try await http.get(name: "t").body == #"{"services":[]}"#)
        let metrics = try await http.send(.GET, at: "/metrics").body
        #expect(metrics.contains(#"tunnel_registry_events_total{kind="register"} 0"#))
        #expect(metrics.contains("tunnel_registry_rejected_requests_total \(Self.cases.count)"))
        // The server is still healthy after all of it.
        #expect(try await http.register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
    }
}
