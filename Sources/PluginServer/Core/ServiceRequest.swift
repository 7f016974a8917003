import Registry

/// The five fields GOST sends, as received by either front (missing fields are empty).
public struct ServiceFields: Sendable, Equatable {
    public var id: String
    public var name: String
    public var node: String
    public var network: String
    public var address: String

    public init(id: String = "", name: String = "", node: String = "", network: String = "", address: String = "") {
        self.id = id
        self.name = name
        self.node = node
        self.network = network
        self.address = address
    }
}

/// Why a request is refused before it reaches the registry, or how the registry failed it.
/// Each front maps a case to one status; the message says what is wrong and what to send.
public enum RequestFailure: Error, Equatable, Sendable {
    /// Bad input: HTTP 400 / INVALID_ARGUMENT.
    case invalid(String)
    /// The request is larger than the limit: HTTP 413 / RESOURCE_EXHAUSTED.
    case tooLarge(String)
    /// The log cannot be written or the registry is not open yet: HTTP 503 / UNAVAILABLE.
    case unavailable(String)
    /// An unexpected error; the message is logged, never sent.
    case internalError(String)
}

/// Checks fields against DESIGN §2 and the size limits, and fills host-less addresses.
public struct ServiceValidator: Sendable {
    public var limits: RequestLimits

    public init(limits: RequestLimits) {
        self.limits = limits
    }

    /// A Register needs id, name, node, network tcp|udp and a `host:port` address.
    public func register(_ fields: ServiceFields, peer: Peer) throws(RequestFailure) -> Service {
        try requireIdentity(fields, needsNode: true)
        guard fields.network == "tcp" || fields.network == "udp" else {
            throw .invalid("network \(quoted(fields.network)) is not supported; send \"tcp\" or \"udp\"")
        }
        try checkSize(fields.address, field: "address")
        guard let address = ServiceAddress.parse(fields.address) else {
            throw .invalid(
                "address \(quoted(fields.address)) is not HOST:PORT; send e.g. \"10.0.0.5:80\", \":80\" or \"[::1]:80\""
            )
        }
        let filled = address.filled(withPeerIP: peer.ip)
        return Service(id: fields.id, name: fields.name, node: fields.node, network: fields.network, address: filled)
    }

    /// Renew and Deregister need id and name; node, network and address are only size-checked.
    public func identity(_ fields: ServiceFields) throws(RequestFailure) {
        try requireIdentity(fields, needsNode: false)
        try checkSize(fields.network, field: "network")
        try checkSize(fields.address, field: "address")
    }

    /// Get needs a non-empty name within the size limit.
    public func name(_ name: String) throws(RequestFailure) {
        guard !name.isEmpty else {
            throw .invalid("name is missing or empty; send the tunnel id, e.g. ?name=<tunnel-id>")
        }
        try checkSize(name, field: "name")
    }

    private func requireIdentity(_ fields: ServiceFields, needsNode: Bool) throws(RequestFailure) {
        var required: [(String, String)] = [("id", fields.id), ("name", fields.name)]
        if needsNode { required.append(("node", fields.node)) }
        let missing = required.filter { $0.1.isEmpty }.map(\.0)
        if !missing.isEmpty {
            let list = missing.joined(separator: ", ")
            throw .invalid("\(list) missing or empty; send non-empty strings for id, name and node")
        }
        try checkSize(fields.id, field: "id")
        try checkSize(fields.name, field: "name")
        try checkSize(fields.node, field: "node")
    }

    private func checkSize(_ value: String, field: String) throws(RequestFailure) {
        let bytes = value.utf8.count
        guard bytes <= limits.fieldBytesMax else {
            throw .invalid("\(field) is \(bytes) bytes; send at most \(limits.fieldBytesMax) bytes")
        }
        guard !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw .invalid("\(field) contains control characters; send printable text")
        }
    }

    private func quoted(_ value: String) -> String {
        "\"" + String(value.prefix(40)) + (value.count > 40 ? "…\"" : "\"")
    }
}
