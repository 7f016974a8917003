/// A stretch of time in which tunnel `name` reconnected at least `min` times within `window`.
struct FlapEpisode: Sendable, Equatable {
    var name: String
    /// Session starts in the episode that followed the end of an earlier session of the tunnel.
    var reconnects: Int
    var firstMicroseconds: Int64
    var lastMicroseconds: Int64
    /// Nodes the reconnects went through, sorted.
    var nodes: [String]
    /// The reconnect instants, oldest first, at most `timesMax`.
    var times: [Int64]
}

enum Flaps {
    /// How many reconnect instants an episode lists.
    static let timesMax = 100

    /// The flap episodes of `sessions`: a reconnect is a session start of a tunnel after an earlier
    /// session of that tunnel ended (a second node connecting alongside is not one); an episode
    /// merges overlapping windows holding ≥ `minimum` reconnects.
    static func episodes(of sessions: [Session], windowMicroseconds: Int64, minimum: Int) -> [FlapEpisode] {
        precondition(windowMicroseconds > 0 && minimum > 0, "window \(windowMicroseconds) min \(minimum)")
        var byName: [String: [Session]] = [:]
        for session in sessions { byName[session.name, default: []].append(session) }
        var episodes: [FlapEpisode] = []
        for (name, group) in byName {
            episodes += episodesOfOneTunnel(
                name: name,
                reconnects: reconnects(group),
                windowMicroseconds: windowMicroseconds,
                minimum: minimum
            )
        }
        return episodes.sorted { ($0.firstMicroseconds, $0.name) < ($1.firstMicroseconds, $1.name) }
    }

    /// The sessions of one tunnel that started after an earlier one of it had ended.
    static func reconnects(_ sessions: [Session]) -> [Session] {
        let ordered = sessions.sorted {
            ($0.startMicroseconds, $0.startSequence) < ($1.startMicroseconds, $1.startSequence)
        }
        var earliestEnd = Int64.max
        var result: [Session] = []
        for session in ordered {
            if earliestEnd <= session.startMicroseconds { result.append(session) }
            if let end = session.endMicroseconds { earliestEnd = min(earliestEnd, end) }
        }
        return result
    }

    private static func episodesOfOneTunnel(
        name: String,
        reconnects: [Session],
        windowMicroseconds: Int64,
        minimum: Int
    ) -> [FlapEpisode] {
        var episodes: [FlapEpisode] = []
        var current: ClosedRange<Int>?
        var windowEnd = 0
        for first in reconnects.indices {
            windowEnd = max(windowEnd, first)
            while windowEnd + 1 < reconnects.count,
                reconnects[windowEnd + 1].startMicroseconds - reconnects[first].startMicroseconds
                    <= windowMicroseconds
            {
                windowEnd += 1
            }
            guard windowEnd - first + 1 >= minimum else { continue }
            if let range = current, first <= range.upperBound {
                current = range.lowerBound...max(range.upperBound, windowEnd)
            } else {
                if let range = current { episodes.append(episode(name, Array(reconnects[range]))) }
                current = first...windowEnd
            }
        }
        if let range = current { episodes.append(episode(name, Array(reconnects[range]))) }
        return episodes
    }

    private static func episode(_ name: String, _ reconnects: [Session]) -> FlapEpisode {
        FlapEpisode(
            name: name,
            reconnects: reconnects.count,
            firstMicroseconds: reconnects.first?.startMicroseconds ?? 0,
            lastMicroseconds: reconnects.last?.startMicroseconds ?? 0,
            nodes: Set(reconnects.map(\.node)).sorted(),
            times: reconnects.prefix(timesMax).map(\.startMicroseconds)
        )
    }
}
