import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the real binary says at start-up: the order of its lines, each once, and one clear
/// line (exit 1, nothing written) when a port is taken or the data directory is in use.
@Suite struct StartupTests {
    @Test func readyComesAfterBothListenersAndEachLineOnce() async throws {
        // Proves "ready" is printed only after both listeners are bound, and every start-up
        // line appears once across stdout and stderr (no framework "Server started" echo).
        let server = try await ServerProcess.start()
        defer { server.cleanUp() }
        let stdout = server.stdout
        let ready = try #require(stdout.range(of: "ready after replay"))
        let http = try #require(stdout.range(of: "http listening on "))
        let grpc = try #require(stdout.range(of: "grpc listening on "))
        #expect(http.lowerBound < ready.lowerBound && grpc.lowerBound < ready.lowerBound, "stdout: \(stdout)")
        #expect(try await server.stop().status == 0)
        let all = server.stdout + server.stderr
        for line in [
            "http listening on", "grpc listening on", "ready after replay", "stopped", "opening the data directory",
        ] {
            #expect(all.components(separatedBy: line).count == 2, "\"\(line)\" is not printed exactly once:\n\(all)")
        }
        #expect(!all.contains("Server started"), "framework start-up echo:\n\(all)")
    }

    @Test(arguments: ["--http", "--grpc"])
    func takenPortIsOneLineAndExit1(option: String) async throws {
        // Proves a taken port stops the start with exit 1 and one line naming the address and
        // its holder (this test process), before any "ready", with nothing written: the data
        // directory it was given does not exist afterwards.
        let socket = try ListeningSocket()
        defer { socket.close() }
        let taken = "127.0.0.1:\(socket.port)"
        let other = option == "--http" ? "--grpc" : "--http"
        let parent = try ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let data = parent + "/data"
        let server = try await ServerProcess.start(
            dataDirectory: data,
            arguments: [option, taken, other, "127.0.0.1:0"],
            defaultListeners: false,
            waitForReady: false
        )
        defer { server.cleanUp() }
        let (status, _) = try await server.waitForExit()
        #expect(status == 1)
        #expect(!FileManager.default.fileExists(atPath: data), "the failed start created \(data)")
        let lines = server.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr:\n\(server.stderr)")
        #expect(server.stderr.contains(taken) && server.stderr.contains(option), "stderr:\n\(server.stderr)")
        #expect(server.stderr.contains("already in use"))
        #expect(server.stderr.contains("pid \(getpid())"), "the holder is not named:\n\(server.stderr)")
        #expect(!server.stdout.contains("ready"), "stdout:\n\(server.stdout)")
    }

    @Test func uncreatableDataDirectoryIsOneLineAndExit1() async throws {
        // Proves a data directory that is a file, or lies under one, is refused before anything
        // starts, in one line naming what is in the way, and that a missing one is created on a
        // good start.
        let parent = try ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        #expect(FileManager.default.createFile(atPath: parent + "/file", contents: Data("x".utf8)))
        // The last --data-dir wins; the first only places the helper's stderr file.
        for (data, message) in [
            (parent + "/file/data", "cannot create the data directory \(parent)/file/data: \(parent)/file is a file"),
            (parent + "/file", "the data directory \(parent)/file is a file, not a directory"),
        ] {
            let blocked = try await ServerProcess.start(
                dataDirectory: parent + "/unused", arguments: ["--data-dir", data], waitForReady: false)
            defer { blocked.cleanUp() }
            let (status, _) = try await blocked.waitForExit()
            #expect(status == 1)
            #expect(blocked.stderr.contains(message), "stderr:\n\(blocked.stderr)")
            #expect(blocked.stderr.split(separator: "\n").count == 1, "stderr:\n\(blocked.stderr)")
            #expect(!blocked.stdout.contains("listening"), "stdout:\n\(blocked.stdout)")
        }

        let fresh = try await ServerProcess.start(
            dataDirectory: parent + "/unused", arguments: ["--data-dir", parent + "/new/data"])
        defer { fresh.cleanUp() }
        #expect(try await HTTPCalls(base: fresh.httpBase).register(id: "a", name: "t", address: "10.0.0.1:80").status == 200)
        #expect(FileManager.default.fileExists(atPath: parent + "/new/data/log"))
    }

    @Test func lockedDataDirectoryIsOneLineNamingTheHolder() async throws {
        // Proves a second server on a data directory in use exits 1 with one line naming the
        // directory and the first server's PID, first and alone, with no framework noise.
        let first = try await ServerProcess.start()
        defer { first.cleanUp() }
        let second = try await ServerProcess.start(dataDirectory: first.dataDirectory, waitForReady: false)
        defer { try? FileManager.default.removeItem(atPath: second.stderrPath) }
        let (status, _) = try await second.waitForExit()
        #expect(status == 1)
        let lines = second.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr:\n\(second.stderr)")
        #expect(second.stderr.contains(first.dataDirectory))
        #expect(second.stderr.contains("pid \(first.process.processIdentifier)"), "stderr:\n\(second.stderr)")
        #expect(second.stdout.isEmpty, "stdout:\n\(second.stdout)")
        #expect(try await first.stop().status == 0, "the first server still stops cleanly")
    }

    @Test(arguments: [(["--log-format", "json"], [String: String]()), ([], ["TUNNEL_REGISTRY_LOG_FORMAT": "json"])])
    func jsonLogIsOneObjectPerLineWithMetadata(arguments: [String], environment: [String: String]) async throws {
        // Proves --log-format json (or its variable) writes one JSON object per stderr line,
        // with time, level, message and the logger's metadata as fields.
        let server = try await ServerProcess.start(
            arguments: arguments + ["--lease-ttl", "30s"],
            environment: environment
        )
        defer { server.cleanUp() }
        #expect(try await server.stop().status == 0)
        let lines = server.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            objects.append(try #require(object, "not a JSON object: \(line)"))
        }
        #expect(objects.allSatisfy { $0["time"] is String && $0["level"] is String && $0["message"] is String })
        let opening = try #require(objects.first { $0["message"] as? String == "opening the data directory" })
        #expect(opening["lease.ttl.us"] as? String == "30000000")
        #expect(opening["level"] as? String == "info")
    }

    @Test func versionFlagPrintsTheVersionOnBothExecutables() throws {
        // Proves --version on tunnel-registry and tunnel-replay exits 0 and prints one and the
        // same version (MAJOR.MINOR.PATCH).
        var versions: [String] = []
        for executable in ["tunnel-registry", "tunnel-replay"] {
            let process = Process()
            process.executableURL = ServerProcess.binaryURL.deletingLastPathComponent()
                .appendingPathComponent(executable)
            process.arguments = ["--version"]
            let pipe = Pipe.closedOnExec()
            process.standardOutput = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(executable) --version")
            versions.append(output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let parts = versions[0].split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil }, "not a version: \(versions[0])")
        #expect(versions[0] == versions[1], "\(versions)")
    }
}

/// A TCP socket listening on a kernel-chosen loopback port, to make a port "taken".
struct ListeningSocket {
    let fd: Int32
    let port: Int

    init() throws {
        let socketFD = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(socketFD, $0, length) }
        }
        guard bound == 0, Glibc.listen(socketFD, 1) == 0 else {
            _ = Glibc.close(socketFD)
            throw ServerProcessError.timeout("bind/listen on 127.0.0.1:0 failed")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        fd = socketFD
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
