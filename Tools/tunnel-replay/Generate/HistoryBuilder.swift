import Registry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a scripted event history: events at chosen instants, in the order they are added
/// (ties keep insertion order), as the registry would have logged them.
struct HistoryBuilder {
    /// Microseconds of the history's second 0.
    let originMicroseconds: Int64
    private(set) var events: [RegistryEvent] = []

    init(originMicroseconds: Int64) {
        self.originMicroseconds = originMicroseconds
    }

    private func at(_ seconds: Double) -> Int64 {
        originMicroseconds + Int64((seconds * 1_000_000).rounded())
    }

    private mutating func add(
        _ kind: EventKind,
        _ service: Service,
        at seconds: Double,
        peer: String,
        lapsedAt: Double? = nil,
        leaseTTLSeconds: Int64? = nil
    ) {
        events.append(
            RegistryEvent(
                sequence: 0,
                timeMicroseconds: at(seconds),
                kind: kind,
                service: service,
                peer: peer,
                lapsedAtMicroseconds: lapsedAt.map(at),
                leaseTTLMicroseconds: leaseTTLSeconds.map { $0 * 1_000_000 }
            )
        )
    }

    mutating func start(at seconds: Double, leaseTTLSeconds: Int64) {
        add(
            .start,
            Service(id: "", name: "", node: "", network: "", address: ""),
            at: seconds,
            peer: "",
            leaseTTLSeconds: leaseTTLSeconds
        )
    }

    mutating func register(_ service: Service, at seconds: Double, peer: String) {
        add(.register, service, at: seconds, peer: peer)
    }

    /// Renews as GOST sends them: id, name and node only.
    mutating func renew(_ service: Service, at seconds: Double, peer: String) {
        add(.renew, Self.callOnly(service), at: seconds, peer: peer)
    }

    /// Renews every `period` seconds from `first` through `last` (inclusive).
    mutating func renews(_ service: Service, first: Double, every period: Double, through last: Double, peer: String) {
        var time = first
        while time <= last {
            renew(service, at: time, peer: peer)
            time += period
        }
    }

    mutating func deregister(_ service: Service, at seconds: Double, peer: String) {
        add(.deregister, Self.callOnly(service), at: seconds, peer: peer)
    }

    /// The sweeper's record of a lapse: logged at `seconds`, lapsed at `lapsedAt`.
    mutating func expire(_ service: Service, lapsedAt: Double, at seconds: Double) {
        add(.expire, service, at: seconds, peer: "", lapsedAt: lapsedAt)
    }

    /// The events in time order, ties in insertion order.
    var ordered: [RegistryEvent] {
        events.enumerated().sorted {
            ($0.element.timeMicroseconds, $0.offset) < ($1.element.timeMicroseconds, $1.offset)
        }
        .map(\.element)
    }

    private static func callOnly(_ service: Service) -> Service {
        Service(id: service.id, name: service.name, node: service.node, network: "", address: "")
    }
}
