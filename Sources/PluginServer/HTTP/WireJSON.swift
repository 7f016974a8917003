#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Registry

/// The JSON body GOST sends for Register, Renew and Deregister. Every field is optional
/// here so a missing one gets our own message; unknown fields are ignored.
struct WireService: Decodable {
    var id: String?
    var name: String?
    var node: String?
    var network: String?
    var address: String?

    var fields: ServiceFields {
        ServiceFields(
            id: id ?? "", name: name ?? "", node: node ?? "", network: network ?? "", address: address ?? ""
        )
    }
}

/// Decoding of request bodies and encoding of replies, with client-facing messages.
public enum WireJSON {
    /// What a Register sends.
    static let example = #"{"id":"<connector id>","name":"<tunnel id>","node":"<node id>","network":"tcp","address":"10.0.0.5:80"}"#
    /// What a Renew or Deregister needs (GOST adds the node, which is optional).
    static let keyExample = #"{"id":"<connector id>","name":"<tunnel id>"}"#

    /// Decodes a body into fields; the failure message says what to fix, with `example` (the
    /// fields this call needs) as the body to send.
    static func decodeService(_ bytes: [UInt8], example: String = example) throws(RequestFailure) -> ServiceFields {
        guard !bytes.isEmpty else {
            throw .invalid("the body is empty; send a JSON object like \(example)")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .invalid("the body is not valid UTF-8; send a UTF-8 JSON object like \(example)")
        }
        do {
            return try JSONDecoder().decode(WireService.self, from: Data(bytes)).fields
        } catch let error as DecodingError {
            throw .invalid(message(for: error, example: example))
        } catch {
            throw .invalid("the body is not valid JSON; send a JSON object like \(example)")
        }
    }

    private static func message(for error: DecodingError, example: String) -> String {
        switch error {
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return "the body must be a JSON object; send e.g. \(example)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "field \(field) must be a string; send e.g. \(example)"
        case .keyNotFound(let key, _):
            return "field \(key.stringValue) is missing; send e.g. \(example)"
        case .dataCorrupted:
            return "the body is not valid JSON; send a JSON object like \(example)"
        @unknown default:
            return "the body could not be read; send a JSON object like \(example)"
        }
    }

    /// `{"services":[...]}` with the five fields of each service, as GOST expects.
    static func encodeServices(_ services: [Service]) -> String {
        var out = #"{"services":["#
        for (index, service) in services.enumerated() {
            if index > 0 { out += "," }
            out += #"{"id":"# + quote(service.id) + #","name":"# + quote(service.name) + #","node":"#
                + quote(service.node) + #","network":"# + quote(service.network) + #","address":"#
                + quote(service.address) + "}"
        }
        return out + "]}"
    }

    /// `{"error":"..."}`.
    static func encodeError(_ message: String) -> String {
        #"{"error":"# + quote(message) + "}"
    }

    /// A JSON string literal for `text`, escaping quotes, backslashes and control characters
    /// (the server's JSON log lines use it too).
    public static func quote(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
