#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension RegistryBench {
    /// Runs every figure, each in child processes, and prints the medians.
    static func all() throws {
        for count in [100_000, 1_000_000] {
            for line in try (0..<3).map({ _ in try child(["memory", "\(count)"]) }) { print(line) }
        }
        for line in try (0..<3).map({ _ in try child(["sweep", "1000000"]) }) { print(line) }
        for line in try (0..<3).map({ _ in try child(["storm", "100000"]) }) { print(line) }
        try restart(count: 100_000)
    }

    /// Runs this executable with `arguments`; returns its stdout, trimmed.
    static func child(_ arguments: [String], until marker: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        if let marker {
            var text = ""
            while !text.contains(marker) {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Fills a data directory with `count` live services, SIGKILLs the filler, then times three
    /// opens (spawn to `ready`), each on a copy of the killed directory, and three starts of the
    /// real server (spawn to `/readyz` 200) when `tunnel-registry` is beside this benchmark.
    static func restart(count: Int) throws {
        let directory = NSTemporaryDirectory() + "registry-bench-\(getpid())"
        let copy = directory + "-open"
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: copy)
        }
        _ = try child(["fill", directory, "\(count)"], until: "filled")
        var spawnToReady: [Double] = []
        for _ in 0..<3 {
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: directory, toPath: copy)
            let started = nanoseconds()
            let line = try child(["open", copy])
            spawnToReady.append(milliseconds(nanoseconds() - started))
            print("restart \(count) live: \(line) (in process); spawn to ready \(format(spawnToReady.last!, 1)) ms")
        }
        print("restart \(count) live: median spawn to ready \(format(median(spawnToReady), 1)) ms")
        var server: [Double] = []
        var cpu: [Double] = []
        for _ in 0..<3 {
            guard let (elapsed, seconds) = try serverRestart(directory: directory) else { return }
            server.append(elapsed)
            cpu.append(seconds)
            print(
                "restart \(count) live: tunnel-registry spawn to /readyz 200 \(format(elapsed, 1)) ms, "
                    + "process CPU until then \(format(seconds * 1_000, 0)) ms")
        }
        print(
            "restart \(count) live: tunnel-registry median spawn to /readyz 200 \(format(median(server), 1)) ms "
                + "(CPU \(format(median(cpu) * 1_000, 0)) ms; aim ≤ 300 ms)")
    }
}
