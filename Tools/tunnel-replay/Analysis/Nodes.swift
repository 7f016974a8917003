import Registry

/// What became of a GOST node.
enum NodeStatus: String, Sendable, Equatable {
    /// At least one connector live at the end of the range.
    case up
    /// No live connector; its last connectors left by Deregister.
    case gone
    /// No live connector; its last leases expired without Deregister (a crashed GOST server).
    case silent
}

/// One GOST tunnel server node as the log saw it.
struct NodeSummary: Sendable, Equatable {
    var node: String
    var status: NodeStatus
    var live: Int
    var sessions: Int
    var firstSeenMicroseconds: Int64
    /// The node's last Register, Renew or Deregister.
    var lastSeenMicroseconds: Int64
    /// When a silent node stopped talking (its last Renew); nil unless silent.
    var silentSinceMicroseconds: Int64?
    /// When the last lease of a silent node lapsed; nil unless silent.
    var lapsedAtMicroseconds: Int64?
}

/// Folds events and the sessions they form into per-node summaries.
struct NodeTracker {
    private struct Seen {
        var first: Int64
        var last: Int64
    }

    private var seen: [String: Seen] = [:]

    /// Records a node's Register, Renew or Deregister.
    mutating func apply(_ event: RegistryEvent) {
        switch event.kind {
        case .register, .renew, .deregister:
            let node = event.service.node
            guard !node.isEmpty else { return }
            if var entry = seen[node] {
                entry.last = event.timeMicroseconds
                seen[node] = entry
            } else {
                seen[node] = Seen(first: event.timeMicroseconds, last: event.timeMicroseconds)
            }
        case .expire, .start, .stall:
            return
        }
    }

    /// One summary per node, sorted by first seen; `sessions` are all sessions of the range.
    func summaries(sessions: [Session]) -> [NodeSummary] {
        var byNode: [String: [Session]] = [:]
        for session in sessions { byNode[session.node, default: []].append(session) }
        var summaries: [NodeSummary] = []
        for (node, times) in seen {
            let nodeSessions = byNode[node] ?? []
            let live = nodeSessions.filter { $0.end == .live }.count
            let lastEnded = nodeSessions.max {
                ($0.endMicroseconds ?? .max, $0.startSequence) < ($1.endMicroseconds ?? .max, $1.startSequence)
            }
            let silent = live == 0 && lastEnded?.end == .expire
            summaries.append(
                NodeSummary(
                    node: node,
                    status: live > 0 ? .up : (silent ? .silent : .gone),
                    live: live,
                    sessions: nodeSessions.count,
                    firstSeenMicroseconds: times.first,
                    lastSeenMicroseconds: times.last,
                    silentSinceMicroseconds: silent ? times.last : nil,
                    lapsedAtMicroseconds: silent ? lastEnded?.endMicroseconds : nil
                )
            )
        }
        return summaries.sorted { ($0.firstSeenMicroseconds, $0.node) < ($1.firstSeenMicroseconds, $1.node) }
    }

    /// Node summaries of a whole event array (pure: what the tests call).
    static func summaries(of events: [RegistryEvent]) -> [NodeSummary] {
        var tracker = NodeTracker()
        var sessions = SessionTracker()
        for event in events {
            tracker.apply(event)
            sessions.apply(event)
        }
        return tracker.summaries(sessions: sessions.allSessions())
    }
}
