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

extension ServiceFields {
    /// The fields as the registry's `Service` (empty strings for missing fields).
    var service: Service {
        Service(id: id, name: name, node: node, network: network, address: address)
    }
}
