/// The row `report` prints after writing the page: which file, how big, the range drawn, and
/// what it counts (the same numbers the page shows).
enum ReportOutput {
    static let columns = ["file", "bytes", "start", "end", "tunnels", "nodes", "sessions", "events", "flaps"]

    static func cells(_ input: ReportInput, file: String, bytes: Int) -> [Cell] {
        [
            .text(file), .int(Int64(bytes)), .time(input.startMicroseconds), .time(input.endMicroseconds),
            .int(Int64(Set(input.sessions.map(\.name)).count)), .int(Int64(input.nodes.count)),
            .int(Int64(input.sessions.count)), .int(Int64(input.events)), .int(Int64(input.flaps.count)),
        ]
    }
}
