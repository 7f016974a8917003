import BenchSupport

/// Collects each round's runs and ratios; prints medians.
struct Table {
    var runs: [String: [RunResult]] = [:]
    var ratios: [String: [Double]] = [:]

    mutating func add(_ name: String, _ result: RunResult) { runs[name, default: []].append(result) }

    mutating func addRatio(_ name: String, _ value: Double) { ratios[name, default: []].append(value) }

    /// Records what the registry's log did during one renew run on `front` (`http`, `grpc`).
    mutating func addLog(_ front: String, _ log: LogCommits, rate: Double, inFlight: Int) {
        addRatio("\(front)-commit-ms", log.millisecondsPerCommit)
        addRatio("\(front)-commit-renews", log.recordsPerCommit)
        let bound = log.bound(inFlight: inFlight)
        if bound > 0 { addRatio("\(front)-rate-bound", rate / bound) }
    }

    static func describe(_ result: RunResult) -> String {
        "\(Int(result.perSecond.rounded()))/s \(Int(result.cpuPerRequest.rounded())) µs"
    }

    func printSummary(rounds: Int, duration: Int, connections: Int) {
        print("median of \(rounds) rounds (\(duration) s each, \(connections) connections; CPU = server utime+stime per request):")
        let rows: [(String, String)] = [
            ("healthz", "registry /healthz (wrk GET)"),
            ("bare-http", "bare Hummingbird renew route (wrk PUT)"),
            ("http-renew", "registry HTTP renew (wrk PUT)"),
            ("bare-grpc", "bare grpc-swift-2 SD Renew (h2load)"),
            ("grpc-renew", "registry gRPC renew (h2load)"),
            ("compare-http", "--compare registry HTTP renew (wrk PUT)"),
            ("compare-grpc", "--compare registry gRPC renew (h2load)"),
        ]
        for (key, label) in rows {
            guard let results = runs[key] else { continue }
            let rate = median(results.map(\.perSecond))
            let cpu = median(results.map(\.cpuPerRequest))
            print("  \(pad(label, 42)) \(pad(String(Int(rate.rounded())), 7, left: true)) req/s  \(pad(String(Int(cpu.rounded())), 5, left: true)) µs CPU/req")
        }
        let targets: [(String, String, String)] = [
            ("http-cpu", "HTTP renew CPU / bare route CPU", "≤ 1.25"),
            ("http-rate", "HTTP renews/s / registry /healthz", "≥ 0.80"),
            ("get-p99", "Get p99 during the HTTP storm (ms)", "≤ 5"),
            ("get-p99-healthz", "Get p99 during the /healthz storm (ms)", "(the machine's floor)"),
            ("grpc-rate", "gRPC renews/s / HTTP renews/s", "≥ 0.80"),
            ("grpc-cpu", "gRPC renew CPU / bare gRPC CPU", "≤ 1.50"),
            ("http-commit-ms", "HTTP renew: ms per log commit", "(write + fdatasync)"),
            ("http-commit-renews", "HTTP renew: renews per log commit", "(sharing one fdatasync)"),
            ("http-rate-bound", "HTTP renews/s / in flight ÷ commit time", "(1.00 = held by the log's sync)"),
            ("grpc-commit-ms", "gRPC renew: ms per log commit", "(write + fdatasync)"),
            ("grpc-commit-renews", "gRPC renew: renews per log commit", "(sharing one fdatasync)"),
            ("grpc-rate-bound", "gRPC renews/s / in flight ÷ commit time", "(1.00 = held by the log's sync)"),
            ("compare-http-cpu", "--compare HTTP renew CPU / bare route CPU", "(before/after)"),
            ("compare-grpc-cpu", "--compare gRPC renew CPU / bare gRPC CPU", "(before/after)"),
        ]
        for (key, label, target) in targets {
            guard let values = ratios[key] else { continue }
            print("  \(pad(label, 42)) \(pad(format(median(values), 2), 7, left: true))   \(target.hasPrefix("(") ? target : "target " + target)")
        }
    }

    private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }
}

