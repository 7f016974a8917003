import Registry

/// The event of a checked payload view as the fold needs it: `Projection.apply` never reads the
/// peer or the logging instance, so folds of millions of records (`verify`, `sessions`) leave
/// them empty instead of building two more strings per record. Listings use `EventCodec.event`.
enum FoldEvent {
    static func make(_ view: EventPayloadView, sequence: UInt64, time: Int64) -> RegistryEvent {
        RegistryEvent(
            sequence: sequence, timeMicroseconds: time, kind: view.kind,
            service: Service(
                id: string(view.id), name: string(view.name), node: string(view.node),
                network: string(view.network), address: string(view.address)),
            peer: "", lapsedAtMicroseconds: view.lapsedAtMicroseconds,
            leaseTTLMicroseconds: view.leaseTTLMicroseconds, renewSequence: view.renewSequence)
    }

    @inline(__always)
    private static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        bytes.isEmpty ? "" : String(decoding: bytes, as: UTF8.self)
    }
}
