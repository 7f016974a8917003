/// The log a command reads: a data directory, or a cluster's shared log in PostgreSQL. Both
/// feed the same scans, folds and analyses (`EventScan`).
enum LogSource {
    case directory(DataDirectory)
    case postgres(PostgresLog)

    /// What a report or message names as the data's origin.
    var label: String {
        switch self {
        case .directory(let directory): return directory.path
        case .postgres(let log): return log.label
        }
    }
}
