import Foundation
import Registry
import Testing

/// `tunnel-replay state --at T --postgres URL` against what the instances' Get answered at T.
@Suite(.serialized, needsPostgres) struct StateAtTests {
    static let names = ["web", "api", "mark"]

    // Proves the replay tool's state at an instant equals what Get answered then on every instance,
    // through registers, renews, deregisters, expiry by the sweeper and a revive.
    @Test func stateAtEqualsWhatGetAnswered() async throws {
        try await withCluster(instances: 2, leaseTTL: "3s") { cluster in
            let (a, b) = (cluster.instances[0], cluster.instances[1])
            _ = try #require(await cluster.leader(), "one instance leads the sweeper")
            var samples: [GetSample] = []
            let phases: [[(RegistryProcess, String, String)]] = [
                [(a, "POST", Body.register("web", "s1", node: "n1", address: "10.0.0.1:80")),
                 (b, "POST", Body.register("web", "s2", node: "n2", address: "10.0.0.2:80")),
                 (a, "POST", Body.register("web", "s3", node: "n1", address: "10.0.0.3:80")),
                 (b, "POST", Body.register("api", "x1", node: "n2", address: "10.0.1.1:443"))],
                [(b, "PUT", Body.key("web", "s1", node: "n1")),
                 (a, "DELETE", Body.key("web", "s2", node: "n2")),
                 (b, "POST", Body.register("api", "x2", node: "n3", address: "10.0.1.2:443"))],
                [(a, "PUT", Body.key("web", "s3", node: "n1")),
                 (a, "POST", Body.register("web", "s4", node: "n4", address: "10.0.0.4:80"))],
                [(b, "DELETE", Body.key("api", "x1", node: "n2")),
                 (a, "PUT", Body.key("web", "s4", node: "n4"))],
            ]
            for (index, phase) in phases.enumerated() {
                for (instance, method, body) in phase {
                    let reply = try await instance.call(method, body: body)
                    #expect(reply.status == 200, "\(method) \(body): \(reply)")
                }
                try await Self.settle(cluster, marker: index, samples: &samples)
                if index == 1 {
                    // Let s3 lapse and be expired by the sweeper before phase 2's renew revives it.
                    let expired = try await eventually(seconds: 60) {
                        LogChecks.appliedExpires(try await cluster.events()).contains { $0.service.id == "s3" }
                    }
                    #expect(expired, "the sweeper expires s3")
                    try await Self.sample(cluster, into: &samples)
                }
            }

            var clean = 0
            for sample in samples {
                let atStart = try await Self.state(cluster, at: sample.startedAt)
                let atEnd = try await Self.state(cluster, at: sample.endedAt)
                guard atStart == atEnd else { continue }
                clean += 1
                for (instance, answers) in sample.answers {
                    for name in Self.names {
                        #expect(
                            answers[name] == atStart[name, default: []],
                            "\(instance) Get \(name) at \(rfc3339(sample.startedAt)): \(answers[name] ?? []) vs state \(atStart[name, default: []])")
                    }
                }
            }
            #expect(clean >= 4, "at least four samples fell between lease lapses (\(clean) of \(samples.count))")
            print("state --at compared with Get on \(cluster.instances.count) instances at \(clean) of \(samples.count) instants")
        }
    }

    /// Registers marker `index` (the phase's last write), waits until every instance answers it
    /// (so each folded the whole phase), then samples Get twice.
    static func settle(_ cluster: Cluster, marker index: Int, samples: inout [GetSample]) async throws {
        let writer = cluster.instances[index % cluster.instances.count]
        let marker = "m\(index)"
        #expect(try await writer.call("POST", body: Body.register("mark", marker, node: "n0")).status == 200)
        for instance in cluster.instances {
            let seen = await eventually(seconds: 60) { await instance.ids("mark")?.contains(marker) == true }
            #expect(seen, "\(instance.instance) folds the phase")
        }
        try await sample(cluster, into: &samples)
        try await sample(cluster, into: &samples)
    }

    /// Every instance's Get for every name, with the instants before the first and after the last.
    static func sample(_ cluster: Cluster, into samples: inout [GetSample]) async throws {
        let startedAt = wallMicroseconds()
        var answers: [String: [String: Set<GetReply.Entry>]] = [:]
        for instance in cluster.instances {
            for name in names {
                let reply = try await instance.call("GET", query: "?name=\(name)")
                #expect(reply.status == 200)
                answers[instance.instance, default: [:]][name] = Set(GetReply.services(reply.text))
            }
        }
        samples.append(GetSample(startedAt: startedAt, endedAt: wallMicroseconds(), answers: answers))
    }

    /// `tunnel-replay state --at T --postgres URL --format json`, by name.
    static func state(_ cluster: Cluster, at time: Int64) async throws -> [String: Set<GetReply.Entry>] {
        let run = try await runReplay(["state", "--at", rfc3339(time), "--postgres", cluster.url, "--format", "json"])
        #expect(run.status == 0, "state --at: \(run.stderr)")
        var byName: [String: Set<GetReply.Entry>] = [:]
        for line in run.stdout.split(separator: "\n") {
            guard let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            let entry = GetReply.Entry(
                id: row["id"] as? String ?? "", name: row["name"] as? String ?? "", node: row["node"] as? String ?? "",
                network: row["network"] as? String ?? "", address: row["address"] as? String ?? "")
            byName[entry.name, default: []].insert(entry)
        }
        return byName
    }
}

/// Get answers of every instance for every name, taken between two instants.
struct GetSample: Sendable {
    var startedAt: Int64
    var endedAt: Int64
    /// instance → name → services.
    var answers: [String: [String: Set<GetReply.Entry>]]
}
