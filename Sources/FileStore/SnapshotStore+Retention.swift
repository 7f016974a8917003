import EventLog

/// The retention a server applied, kept beside the snapshots (`DATA/snapshots/RETENTION`, one line
/// such as `30d`) so the replay tool can name it when asked about removed history.
extension SnapshotStore {
    static let retentionFileName = "RETENTION"

    /// Records `retentionMicroseconds` (written atomically, only when it changed).
    func recordRetention(_ retentionMicroseconds: Int64) throws {
        let text = RetentionText.format(retentionMicroseconds)
        guard recordedRetention() != text else { return }
        try FileIO.makeDirectories(directory)
        try FileIO.writeAtomically(
            Array((text + "\n").utf8), to: directory + "/" + Self.retentionFileName,
            temporaryPath: directory + "/.retention.tmp", directory: directory)
    }

    /// The retention the server last applied (e.g. `30d`), nil when none was recorded.
    public func recordedRetention() -> String? {
        guard let bytes = try? FileIO.readFile(directory + "/" + Self.retentionFileName, bytesMax: 64) else {
            return nil
        }
        let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
        return text.isEmpty ? nil : text
    }
}

/// A retention written back as an operator would type it: the largest whole unit (`30d`, `12h`).
enum RetentionText {
    static func format(_ microseconds: Int64) -> String {
        let units: [(String, Int64)] = [
            ("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000), ("s", 1_000_000), ("ms", 1_000),
        ]
        for (suffix, scale) in units where microseconds % scale == 0 {
            return "\(microseconds / scale)\(suffix)"
        }
        return "\(microseconds)us"
    }
}
