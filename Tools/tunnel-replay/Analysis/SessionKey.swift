/// A session's lease, ordered by name then id: `String` comparison, so canonically equivalent
/// spellings are one key, as in the projection.
struct SessionKey: Comparable {
    var name: String
    var id: String

    init(_ session: Session) {
        name = session.name
        id = session.id
    }

    static func < (left: SessionKey, right: SessionKey) -> Bool {
        left.name != right.name ? left.name < right.name : left.id < right.id
    }

    /// `indices` of `sessions` by their sessions' keys.
    static func sorted<Indices: Sequence<Int>>(_ indices: Indices, of sessions: [Session]) -> [Int] {
        indices.sorted { SessionKey(sessions[$0]) < SessionKey(sessions[$1]) }
    }
}

extension Session {
    /// A session with no heap storage, swapped in where a session is moved out of an array.
    static let placeholder = Session(
        id: "", name: "", node: "", network: "", address: "", startMicroseconds: 0, endMicroseconds: nil,
        end: .live, renews: 0, maxGapMicroseconds: 0, startSequence: 0, lastActivityMicroseconds: 0)

    /// This open session as a later piece `next` continued it.
    mutating func `continue`(with next: Session, reregistered: Bool) {
        if reregistered {
            node = next.node
            network = next.network
            address = next.address
        }
        endMicroseconds = next.endMicroseconds
        end = next.end
        renews += next.renews
        maxGapMicroseconds = max(maxGapMicroseconds, next.maxGapMicroseconds)
        lastActivityMicroseconds = next.lastActivityMicroseconds
    }
}
