import EventLog
import FileStore
import Foundation
import Testing

@testable import Registry

/// The Registry on a real log in a tiny tmpfs that fills up. Mounting needs root (with
/// CAP_SYS_ADMIN); elsewhere the suite is reported as skipped, never passed silently.
@Suite(.enabled(if: TmpfsProbe.canMount, "mounting a tmpfs needs root with CAP_SYS_ADMIN"))
struct DiskFullTests {
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Fills the file system holding `path` with a file at `path`; returns its size.
    static func fill(_ path: String) -> Int {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { return 0 }
        defer { try? handle.close() }
        let chunk = Data(count: 4_096)
        var written = 0
        while written < 64 << 20 {
            do {
                try handle.write(contentsOf: chunk)
            } catch {
                break
            }
            written += chunk.count
        }
        return written
    }

    // Proves a full disk answers unavailable, keeps Get working, loses no acknowledged
    // register, and recovers by itself once space is freed.
    @Test func diskFullThenRecovery() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let mountPoint = directory.path + "/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try #require(
            Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mountPoint]) == 0,
            "mounting a 512k tmpfs on \(mountPoint) failed although the probe mount worked")
        defer { _ = Self.run("/bin/umount", [mountPoint]) }
        let clock = ManualClock()
        var configuration = RegistryConfiguration(dataDirectory: mountPoint + "/data")
        configuration.clock = clock.closure
        let localLog = LocalLogOptions(segmentBytesMax: 64 << 10)
        let registry = try await Registry.open(configuration, localLog: localLog, logger: quietLogger)
        try await registry.register(service("first"), peer: peerV4)
        let filler = mountPoint + "/filler"
        #expect(Self.fill(filler) > 0)

        var acknowledged = ["first"]
        var failure: RegistryError?
        for index in 0..<20_000 {
            let id = "c\(index)-" + String(repeating: "x", count: 200)
            do {
                try await registry.register(service(id, address: "10.0.\(index % 250).\(index % 200):80"), peer: peerV4)
                acknowledged.append(id)
            } catch let error as RegistryError {
                failure = error
                break
            }
        }
        guard case .unavailable(let message)? = failure else {
            Issue.record("the disk never filled up: \(acknowledged.count) registers acknowledged")
            try await registry.close()
            return
        }
        #expect(message.contains("cannot be written"))
        #expect(await registry.isWritable == false)
        #expect(try await registry.get(name: "tunnel-a").count == acknowledged.count)

        try FileManager.default.removeItem(atPath: filler)
        clock.advance(seconds: 2)
        try await registry.register(service("after"), peer: peerV4)
        acknowledged.append("after")
        #expect(await registry.isWritable)
        try await registry.close()

        let reopened = try await Registry.open(configuration, localLog: localLog, logger: quietLogger)
        let ids = Set(try await reopened.get(name: "tunnel-a").map(\.id))
        #expect(ids == Set(acknowledged))
        try await reopened.close()
    }
}

/// Whether a tmpfs can be mounted here: tried once on a scratch directory.
enum TmpfsProbe {
    static let canMount: Bool = {
        guard let directory = try? TemporaryDirectory() else { return false }
        defer { directory.remove() }
        guard DiskFullTests.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", directory.path]) == 0 else {
            return false
        }
        _ = DiskFullTests.run("/bin/umount", [directory.path])
        return true
    }()
}
