/// Assigns the sessions of one tunnel to lanes so that no two sessions in one lane overlap:
/// nodes in order of first appearance, and within a node as many lanes as sessions of that
/// node were up at once (greedy interval partitioning, which needs the fewest lanes).
enum ReportLanes {
    /// One lane: the node it belongs to.
    struct Lane: Equatable {
        var node: String
    }

    struct Assignment {
        var lanes: [Lane]
        /// For each session (in the order given), the index of its lane.
        var laneOfSession: [Int]
    }

    /// Sessions that touch (one ends exactly when the next starts) may share a lane.
    static func assign(_ sessions: [Session]) -> Assignment {
        var nodeOrder: [String] = []
        var byNode: [String: [Int]] = [:]
        for (index, session) in sessions.enumerated() {
            if byNode[session.node] == nil { nodeOrder.append(session.node) }
            byNode[session.node, default: []].append(index)
        }
        var lanes: [Lane] = []
        var laneOfSession = Array(repeating: 0, count: sessions.count)
        for node in nodeOrder {
            let members = (byNode[node] ?? []).sorted {
                (sessions[$0].startMicroseconds, sessions[$0].startSequence)
                    < (sessions[$1].startMicroseconds, sessions[$1].startSequence)
            }
            // The end of the last session placed in each of this node's lanes.
            var laneEnds: [Int64] = []
            let firstLane = lanes.count
            for member in members {
                let session = sessions[member]
                let end = session.endMicroseconds ?? Int64.max
                if let free = laneEnds.firstIndex(where: { $0 <= session.startMicroseconds }) {
                    laneEnds[free] = end
                    laneOfSession[member] = firstLane + free
                } else {
                    laneEnds.append(end)
                    laneOfSession[member] = firstLane + laneEnds.count - 1
                    lanes.append(Lane(node: node))
                }
            }
        }
        return Assignment(lanes: lanes, laneOfSession: laneOfSession)
    }
}
