/// Reads a query parameter the way GOST's Go HTTP client writes it (`url.Values.Encode`):
/// `application/x-www-form-urlencoded`, where a space is `+` and a literal `+` is `%2B`.
/// Hummingbird's `queryParameters` decodes `%XX` only, so a tunnel name with a space would be
/// looked up with a `+` in its place and not found.
enum FormQuery {
    /// The decoded value of the first `key=value` pair named `key`; nil when absent. A pair whose
    /// `%` escapes are malformed yields its raw text, which then fails validation or lookup.
    static func value(of key: String, in query: String?) -> String? {
        guard let query else { return nil }
        for pair in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let name = pair[..<(equals ?? pair.endIndex)]
            guard decode(name) == key else { continue }
            guard let equals else { return "" }
            return decode(pair[pair.index(after: equals)...])
        }
        return nil
    }

    /// `+` as a space and `%XX` as the byte XX; the text unchanged when an escape is malformed.
    static func decode(_ bytes: Substring.UTF8View.SubSequence) -> String {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                decoded.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let high = bytes.index(after: index)
                guard high < bytes.endIndex, bytes.index(after: high) < bytes.endIndex,
                    let upper = hexValue(bytes[high]), let lower = hexValue(bytes[bytes.index(after: high)])
                else { return String(decoding: bytes, as: UTF8.self) }
                decoded.append(upper << 4 | lower)
                index = bytes.index(after: high)
            default:
                decoded.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
