import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries, a data directory in a
/// temporary directory (initdb'd once per test process, copied per server), a free loopback port,
/// trust authentication for `postgres` and password authentication for the role
/// `PostgresServer.passwordRole` (password `PostgresServer.password`), for the wrong-password test.
/// Start with `start()`, end with `stop()`; `withPostgres` does both.
public final class PostgresServer: Sendable {
    /// Where Debian's `postgresql` package puts the server binaries.
    public static let binDirectory: String = {
        if let explicit = ProcessInfo.processInfo.environment["POSTGRES_BIN"] { return explicit }
        for version in ["17", "16", "15"] where FileManager.default.fileExists(atPath: "/usr/lib/postgresql/\(version)/bin/initdb") {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        return "/usr/lib/postgresql/15/bin"
    }()

    /// True when the binaries the harness needs are installed (the test trait `.enabled(if:)`).
    public static let isAvailable: Bool = ["initdb", "pg_ctl", "psql"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: "\(binDirectory)/\($0)")
    }

    /// The role that must log in with a password (`host ... scram-sha-256` in pg_hba.conf).
    public static let passwordRole = "registry_password_user"
    public static let password = "correct-horse"

    public let directory: String
    public let port: Int

    private var dataDirectory: String { directory + "/data" }

    private init(directory: String, port: Int) {
        self.directory = directory
        self.port = port
    }

    /// The URL of `database` as the trusted superuser (`postgres`, no password).
    public func url(database: String = "postgres") -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Starts a new server on a free loopback port and creates `databases` in it.
    public static func start(databases: [String] = ["registry"]) async throws -> PostgresServer {
        let template = try await Template.shared.path()
        let directory = try makeTemporaryDirectory(prefix: "pg-test")
        try await run("/bin/cp", ["-a", template, directory + "/data"])
        try await run("/bin/chown", ["-R", "postgres:postgres", directory])
        var lastError: (any Error)?
        for _ in 0..<5 {
            let server = PostgresServer(directory: directory, port: try freeLoopbackPort())
            do {
                try await server.pgctl(["-w", "-t", "60", "start", "-o", server.serverOptions])
                for database in databases { try await server.psql("CREATE DATABASE \(database)") }
                return server
            } catch {
                lastError = error
            }
        }
        throw lastError ?? HarnessError(description: "could not start PostgreSQL in \(directory)")
    }

    /// Stops the server (crash-stop with `immediate`), then starts it again on the same port.
    public func restart(immediate: Bool = true) async throws {
        try await stopServer(immediate: immediate)
        try await pgctl(["-w", "-t", "60", "start", "-o", serverOptions])
    }

    /// Stops the server without starting it again (for "database down" tests); `start()` again later.
    public func stopServer(immediate: Bool = true) async throws {
        try await pgctl(["-w", "-t", "60", "-m", immediate ? "immediate" : "fast", "stop"])
    }

    /// Starts a server stopped by `stopServer`.
    public func startAgain() async throws {
        try await pgctl(["-w", "-t", "60", "start", "-o", serverOptions])
    }

    /// Stops the server and removes its directory.
    public func stop() async {
        _ = try? await pgctl(["-w", "-t", "60", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs SQL as `postgres` through the Unix socket (psql, stops on the first error).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        try await Self.runAsPostgres(
            "\(Self.binDirectory)/psql",
            ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", "\(port)", "-U", "postgres",
             "-d", database, "-c", sql])
    }

    private var serverOptions: String {
        "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on"
    }

    private func pgctl(_ arguments: [String]) async throws {
        try await Self.runAsPostgres(
            "\(Self.binDirectory)/pg_ctl", ["-D", dataDirectory, "-l", directory + "/server.log"] + arguments)
    }

    /// The data directory every server copies: initdb once, a pg_hba.conf with the password role.
    private actor Template {
        static let shared = Template()
        private var creating: Task<String, any Error>?

        func path() async throws -> String {
            if let creating { return try await creating.value }
            let task = Task { try await Self.create() }
            creating = task
            return try await task.value
        }

        private static func create() async throws -> String {
            let root = try makeTemporaryDirectory(prefix: "pg-template")
            try await run("/bin/chown", ["postgres:postgres", root])
            let data = root + "/data"
            try await runAsPostgres(
                "\(binDirectory)/initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            let hba = """
                local all all trust
                host all \(passwordRole) 127.0.0.1/32 scram-sha-256
                host all all 127.0.0.1/32 trust

                """
            try hba.write(toFile: data + "/pg_hba.conf", atomically: false, encoding: .utf8)
            let port = try freeLoopbackPort()
            let control = ["-D", data, "-l", root + "/server.log", "-w", "-t", "60"]
            try await runAsPostgres(
                "\(binDirectory)/pg_ctl", control + ["start", "-o", "-p \(port) -k \(root) -c listen_addresses=''"])
            try await runAsPostgres(
                "\(binDirectory)/psql",
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", root, "-p", "\(port)", "-U", "postgres", "-d", "postgres",
                 "-c", "CREATE ROLE \(passwordRole) LOGIN SUPERUSER PASSWORD '\(password)'"])
            try await runAsPostgres("\(binDirectory)/pg_ctl", control + ["-m", "fast", "stop"])
            templateRoot.withLock { $0 = root }
            atexit { if let root = templateRoot.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: root) } }
            return data
        }
    }

    @discardableResult
    private static func runAsPostgres(_ executable: String, _ arguments: [String]) async throws -> String {
        if geteuid() == 0 {
            return try await run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        }
        return try await run(executable, arguments)
    }

    /// Runs a program to its end without blocking a thread of the concurrency pool; throws with
    /// its output when it exits non-zero. posix_spawn and waitpid, not Foundation's Process: a
    /// server started by pg_ctl inherits descriptors, and Process waits for those to close.
    /// Output goes to a file for the same reason (a pipe would never reach its end).
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let outputPath = NSTemporaryDirectory() + "pg-harness-\(UInt64.random(in: 0...UInt64.max)).out"
        defer { unlink(outputPath) }
        let pid = try spawn(executable, arguments, outputPath: outputPath)
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7F) == 0
        let code = (status >> 8) & 0xFF
        guard exited && code == 0 else {
            throw HarnessError(
                description: "\(executable) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func spawn(_ executable: String, _ arguments: [String], outputPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // The server pg_ctl starts lives on: it must not inherit the pipes of other tests'
        // processes (their readers would never see the end of their output), so a shell closes
        // every descriptor above 2 before it runs the program.
        let closeAndRun = "for f in /proc/$$/fd/*; do n=${f##*/}; [ \"$n\" -gt 2 ] && eval \"exec $n>&-\"; done; exec \"$@\""
        let shell = "/bin/bash"
        let argv = ([shell, "-c", closeAndRun, "bash", executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, shell, &actions, nil, argv, environ)
        guard result == 0 else {
            throw HarnessError(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }
}

/// A failure of the test harness itself (a program that would not run).
public struct HarnessError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }

}

private let templateRoot = Mutex<String?>(nil)

/// A new directory under the system's temporary directory.
public func makeTemporaryDirectory(prefix: String) throws -> String {
    let path = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A loopback TCP port nobody listens on right now (bound to port 0, then released).
public func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw HarnessError(description: "socket() failed: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            guard bind(descriptor, pointer, length) == 0 else { return false }
            return getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else { throw HarnessError(description: "bind to 127.0.0.1:0 failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Runs `body` with a started server and stops it afterwards, whether `body` threw or not.
public func withPostgres<T>(databases: [String] = ["registry"], _ body: (PostgresServer) async throws -> T) async throws -> T {
    let server = try await PostgresServer.start(databases: databases)
    do {
        let value = try await body(server)
        await server.stop()
        return value
    } catch {
        await server.stop()
        throw error
    }
}
