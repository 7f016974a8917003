import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Finds which process listens on a TCP port, from `/proc/net/tcp{,6}` and `/proc/PID/fd`
/// (Linux; a process of another user is found only when we may read its descriptors).
enum PortHolder {
    /// `pid 1234 (gost)`, or nil when no holder can be found.
    static func describe(port: Int) -> String? {
        let inodes = listeningInodes(port: port)
        guard !inodes.isEmpty, let pid = process(holdingAnyOf: inodes) else { return nil }
        let comm = readProcFile("/proc/\(pid)/comm")?.trimmingCharacters(in: .whitespacesAndNewlines)
        return "pid \(pid)" + (comm.map { " (\($0))" } ?? "")
    }

    /// Socket inodes in state LISTEN (0A) on `port`, any local address.
    static func listeningInodes(port: Int) -> Set<String> {
        var inodes = Set<String>()
        let portHex = String(format: "%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = readProcFile(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, fields[3] == "0A", fields[1].hasSuffix(":" + portHex) else { continue }
                inodes.insert(String(fields[9]))
            }
        }
        return inodes
    }

    /// A /proc file read to its end (they report a size of 0, so read until EOF).
    static func readProcFile(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The first process with a descriptor on one of `inodes`.
    static func process(holdingAnyOf inodes: Set<String>) -> Int32? {
        let targets = Set(inodes.map { "socket:[\($0)]" })
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry) else { continue }
            let fdDirectory = "/proc/\(entry)/fd"
            guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else { continue }
            for descriptor in descriptors {
                if let target = try? FileManager.default.destinationOfSymbolicLink(
                    atPath: fdDirectory + "/" + descriptor
                ),
                    targets.contains(target)
                {
                    return pid
                }
            }
        }
        return nil
    }
}
