/// Checks a presented token against the configured one in time that depends only on the
/// configured token's length, so response timing does not reveal how many bytes matched.
public struct TokenCheck: Sendable {
    private let expected: [UInt8]

    /// A check for `token`; an empty token is a configuration error caught by the caller.
    public init(token: String) {
        precondition(!token.isEmpty, "TokenCheck needs a non-empty token")
        self.expected = Array(token.utf8)
    }

    /// True when `candidate` equals the configured token.
    public func matches<Bytes: Collection<UInt8>>(_ candidate: Bytes) -> Bool {
        let presented = Array(candidate)
        var difference = expected.count ^ presented.count
        for index in expected.indices {
            let byte = index < presented.count ? presented[index] : 0
            difference |= Int(expected[index] ^ byte)
        }
        return difference == 0
    }

    /// True when an HTTP `Authorization` value is `Bearer <token>` (scheme case-insensitive).
    public func matchesBearer(_ header: String?) -> Bool {
        guard let header else { return false }
        let utf8 = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard utf8.count > scheme.count,
            zip(utf8, scheme).allSatisfy({ ($0 | 0x20) == $1 || ($0 == 0x20 && $1 == 0x20) })
        else { return false }
        return matches(utf8[scheme.count...])
    }
}
