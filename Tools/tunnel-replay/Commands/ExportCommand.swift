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
            Records keep their sequence numbers and commit times; records committed at the same \
            instant become one commit. The snapshots stored in the database are copied too. DIR \
            must be new or empty. The copy ends at the log's head when the export starts.

            Prints one row when done: data_dir, events, commits, segments, bytes, snapshots, first, \
            last, last_sequence (--format text, json or csv). Warnings go to stderr.
            """
    )

    @Option(help: "The cluster's shared log: postgres://user:pass@host:5432/db?sslmode=require") var postgres: String
    @Option(name: .long, help: "The data directory to create (new or empty).") var dataDir: String
    @OptionGroup var outputFormat: FormatOptions

    func run() async throws {
        try ExportTarget.prepare(dataDir)
        let logger = PostgresLog.quietLogger()
        let reader: SharedLogReader
        do {
            reader = try await SharedLogReader.open(url: postgres, logger: logger)
        } catch {
            throw ReplayError.unreadable(PostgresLog.message(error, doing: "cannot open the shared log given by --postgres"))
        }
        let summary: SharedLogExport.Summary
        do {
            summary = try await SharedLogExport(reader: reader, dataDirectory: dataDir).run()
            await reader.close()
        } catch {
            await reader.close()
            throw error
        }
        let segments = try EventScan(directory: DataDirectory(path: dataDir)).segments()
        let writer = outputFormat.writer(columns: ExportOutput.columns)
        writer.write(ExportOutput.cells(summary, dataDirectory: dataDir, segments: segments))
        writer.finish()
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
