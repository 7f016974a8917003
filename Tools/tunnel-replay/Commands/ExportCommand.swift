import ArgumentParser
import EventLog
import FileStore
import Logging
import Registry
import SharedLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `export --postgres URL --data-dir DIR`: copies a cluster's shared log into a standard data
/// directory that every command reads offline with the same answers.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Copy a cluster's shared log (PostgreSQL) into a new data directory (segments + snapshots).",
        discussion: """
            Records keep their sequence numbers and commit times; records committed at the same
            instant become one commit. The snapshots stored in the database are copied too. DIR
            must be new or empty. The copy ends at the log's head when the export starts.
            """
    )

    @Option(help: "The cluster's shared log: postgres://user:pass@host:5432/db?sslmode=require") var postgres: String
    @Option(name: .long, help: "The data directory to create (new or empty).") var dataDir: String

    func run() async throws {
        try ExportTarget.prepare(dataDir)
        let logger = PostgresLog.quietLogger()
        let reader: SharedLogReader
        do {
            reader = try await SharedLogReader.open(url: postgres, logger: logger)
        } catch {
            throw ReplayError.unreadable(PostgresLog.message(error, doing: "cannot open the shared log given by --postgres"))
        }
        do {
            let summary = try await SharedLogExport(reader: reader, dataDirectory: dataDir).run()
            await reader.close()
            Diagnostics.warn(
                "export: \(summary.records) records (sequences 1 to \(summary.records)) in \(summary.commits) commits"
                    + " and \(summary.snapshots) snapshots written to '\(dataDir)'")
        } catch {
            await reader.close()
            throw error
        }
    }
}

/// The directory an export writes: created when missing, refused unless empty.
enum ExportTarget {
    static func prepare(_ path: String) throws(ReplayError) {
        if DataDirectory.isDirectory(path) {
            guard let entries = opendir(path) else {
                throw .usage("cannot read '\(path)' (errno \(errno)): pass a new or empty directory to --data-dir")
            }
            defer { closedir(entries) }
            while let entry = readdir(entries) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                guard name == "." || name == ".." else {
                    throw .usage(
                        "'\(path)' is not empty (it holds '\(name)'): export writes a fresh data directory;"
                            + " pass a new or empty directory to --data-dir")
                }
            }
            return
        }
        guard mkdir(path, 0o755) == 0 else {
            throw .usage("cannot create '\(path)' (errno \(errno)): pass a new directory whose parent exists")
        }
    }
}
