#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A server process the bench started: its stdout and stderr go to files, and `address` is
/// the `HOST:PORT` it announced.
final class ServerProcess {
    let label: String
    let process: Process
    let outputPath: String
    let address: String

    /// Starts `executable` and waits (up to 120 s) until stdout holds a line containing every
    /// marker; `addressAfter` is the text preceding the announced address. Its output files go
    /// to `directory` (the bench's scratch directory, removed at the end).
    init(
        label: String, executable: String, arguments: [String], markers: [String], addressAfter: String,
        directory: String
    ) throws {
        self.label = label
        let base = directory + "/" + label
        outputPath = base + ".out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: base + ".err")
        do {
            try process.run()
        } catch {
            throw BenchError("cannot start \(executable) (\(error)); build it with swift build -c release --product \(URL(fileURLWithPath: executable).lastPathComponent)")
        }
        let deadline = Date().addingTimeInterval(120)
        var text = ""
        while Date() < deadline, process.isRunning {
            text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            if markers.allSatisfy(text.contains) { break }
            usleep(50_000)
        }
        guard markers.allSatisfy(text.contains),
            let line = text.split(separator: "\n").first(where: { $0.contains(addressAfter) }),
            let range = line.range(of: addressAfter)
        else {
            process.terminate()
            let errors = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
            throw BenchError(
                "\(label) did not announce \(markers) within 120 s; its stdout: \(text); its stderr: \(errors.suffix(2000))")
        }
        address = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
    }

    var pid: Int32 { process.processIdentifier }

    /// User plus system CPU the process used so far, in microseconds (`/proc/PID/stat`).
    func cpuMicroseconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // After "pid (comm)": state is field 3, utime field 14, stime field 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) * 1_000_000 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident bytes now (`/proc/PID/statm`).
    func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Runs a load tool to completion; returns its stdout.
func runTool(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do {
        try process.run()
    } catch {
        throw BenchError("cannot run \(executable) (\(error)); install it: apt-get install -y wrk nghttp2-client")
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
        throw BenchError("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)")
    }
    return text
}

/// A failure of the bench itself, with what to do.
struct BenchError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// The machine's load average (1, 5, 15 minutes) as `/proc/loadavg` gives it.
func loadAverage() -> String {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}
