import EventLog
import Logging
import NIOCore
import PluginServer

#if canImport(Glibc)
import Glibc
#endif

/// A start-up failure said in one log line, then exit 1. Nothing has been opened for writing
/// when it is reported (the registry opens only after both listeners are bound), so there is
/// nothing to flush or snapshot, and no framework shutdown chatter follows the reason.
struct StartupFailure: Sendable {
    let logger: Logger

    func report(_ message: String) -> Never {
        logger.critical("\(message)")
        exit(1)
    }

    /// The message for a listener that could not bind: the address, the option, why, and who
    /// holds the port when it is taken and the holder can be found.
    static func listen(front: String, address: ListenAddress, error: any Error) -> String {
        let option = "--\(front)"
        let code = errnoCode(error)
        if code == EADDRINUSE {
            let holder = PortHolder.describe(port: address.port).map { ", held by \($0)" } ?? ""
            return "cannot listen on \(address) (\(option)): the address is already in use\(holder); "
                + "stop that process or pass another \(option)"
        }
        if code == EADDRNOTAVAIL {
            return "cannot listen on \(address) (\(option)): no interface of this machine has that address; "
                + "pass one of its addresses, 0.0.0.0 for all, or 127.0.0.1"
        }
        if code == EACCES {
            return "cannot listen on \(address) (\(option)): permission denied (ports below 1024 need privileges); "
                + "pass a port from 1024 up"
        }
        return "cannot listen on \(address) (\(option)): \(error); check \(option)"
    }

    /// The message for a registry that could not open its data directory.
    static func open(dataDirectory: String, logDirectory: String, error: any Error) -> String {
        if case EventLogError.locked = error {
            return locked(dataDirectory: dataDirectory, logDirectory: logDirectory)
        }
        if case EventLogError.corruptSegment = error {
            return "cannot open the data directory \(dataDirectory): \(error); "
                + "check it with `tunnel-replay verify --data-dir \(dataDirectory)`"
        }
        return "cannot open the data directory \(dataDirectory): \(error)"
    }

    /// The message for a data directory another process writes to.
    static func locked(dataDirectory: String, logDirectory: String) -> String {
        let holder = LogDirectoryLock.holderPID(directory: logDirectory).map { " (pid \($0))" } ?? ""
        return "the data directory \(dataDirectory) is in use by another tunnel-registry\(holder): "
            + "\(logDirectory)/LOCK is held; stop that server or pass another --data-dir"
    }

    /// The errno inside a bind failure, however the framework wrapped it.
    static func errnoCode(_ error: any Error) -> Int32? {
        if let io = error as? IOError { return io.errnoCode }
        var text = String(describing: error)
        text += String(reflecting: error)
        if text.contains("Address already in use") || text.contains("EADDRINUSE") { return EADDRINUSE }
        if text.contains("Cannot assign requested address") { return EADDRNOTAVAIL }
        if text.contains("Permission denied") { return EACCES }
        return nil
    }
}
