import Foundation
import Testing

@testable import PluginServer

/// The HTTP front's fast body scanner agrees with JSONDecoder wherever it answers.
@Suite struct FlatJSONTests {
    static func fast(_ text: String) -> ServiceFields? {
        Array(text.utf8).withUnsafeBytes(FlatJSON.decode)
    }

    @Test func readsWhatGOSTSends() {
        // Proves GOST's register and renew bodies (all five fields, some empty) take the fast path.
        #expect(
            Self.fast(#"{"id":"c1","name":"t1","node":"n1","network":"tcp","address":":80"}"#)
                == ServiceFields(id: "c1", name: "t1", node: "n1", network: "tcp", address: ":80"))
        #expect(
            Self.fast(#" { "id" : "c1" , "name":"t1","node":"n1","network":"","address":"" } "#)
                == ServiceFields(id: "c1", name: "t1", node: "n1"))
        #expect(Self.fast(#"{"name":"t1","extra":"x","id":"c1"}"#) == ServiceFields(id: "c1", name: "t1"))
        #expect(Self.fast("{}") == ServiceFields())
    }

    @Test func leavesEverythingElseToJSONDecoder() throws {
        // Proves escapes, non-ASCII, non-string values, repeats and malformed text are not
        // guessed at: the scanner declines and the full decoder gives the answer or the message.
        let declined = [
            "", " ", "[]", #"{"id":"a\"b"}"#, #"{"id":"é"}"#, #"{"id":5}"#, #"{"id":null}"#, #"{"id":{}}"#,
            #"{"x":1}"#, #"{"id":"a","id":"b"}"#, #"{"id":"a""#, #"{"id":"a"} x"#, #"{"id":"a",}"#, "{\"id\":\"a\nb\"}",
        ]
        for text in declined {
            #expect(Self.fast(text) == nil, "\(text)")
        }
        #expect(
            try WireJSON.decodeService(Array(#"{"id":"a\"b","name":"é"}"#.utf8)) == ServiceFields(id: "a\"b", name: "é"))
        #expect(throws: RequestFailure.self) { try WireJSON.decodeService(Array(#"{"id":5}"#.utf8)) }
    }
}
