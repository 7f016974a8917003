/// A window when tunnel `name` had at least one live connector on `node`.
struct TimelineWindow: Sendable, Equatable {
    var name: String
    var node: String
    var startMicroseconds: Int64
    /// nil while still up.
    var endMicroseconds: Int64?
}

enum Timeline {
    /// Merges the sessions of each (name, node) into the windows when at least one was live,
    /// ordered by start, then node.
    static func windows(of sessions: [Session]) -> [TimelineWindow] {
        var byKey: [String: [Session]] = [:]
        for session in sessions {
            byKey[session.name + "\u{0}" + session.node, default: []].append(session)
        }
        var windows: [TimelineWindow] = []
        for group in byKey.values {
            let sorted = group.sorted { $0.startMicroseconds < $1.startMicroseconds }
            var current: TimelineWindow?
            for session in sorted {
                if var window = current {
                    guard let end = window.endMicroseconds else { continue }
                    if session.startMicroseconds <= end {
                        window.endMicroseconds = session.endMicroseconds.map { max($0, end) }
                        current = window
                        continue
                    }
                    windows.append(window)
                }
                current = TimelineWindow(
                    name: session.name,
                    node: session.node,
                    startMicroseconds: session.startMicroseconds,
                    endMicroseconds: session.endMicroseconds
                )
            }
            if let current { windows.append(current) }
        }
        return windows.sorted {
            ($0.startMicroseconds, $0.name, $0.node) < ($1.startMicroseconds, $1.name, $1.node)
        }
    }
}
