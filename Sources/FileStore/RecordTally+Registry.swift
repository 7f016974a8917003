import EventLog
import Registry

extension RecordTally {
    /// The registry's tally (scheme `EventCodec.tallyScheme`): each dense segment of a registry's
    /// log counts its records by event kind, so `tunnel-replay stats` reads counts by kind from
    /// the segments alone. Every writer of a registry data directory sets it.
    public static let registryEvents = RecordTally(scheme: EventCodec.tallyScheme, classify: EventCodec.tallySlot)
}
