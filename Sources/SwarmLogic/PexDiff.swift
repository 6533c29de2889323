/// Peer exchange (BEP 11) bookkeeping for one connection: what we told the peer, and what
/// to tell it next — peers we are connected to that it has not heard of (added) and peers it
/// heard of that are gone (dropped), at most `limit` of each per message (BEP 11 caps a
/// message at 50 added). Messages go at most once a minute. Value type; time in seconds.
public struct PexDiff: Sendable {
    public private(set) var told: Set<String> = []
    public private(set) var nextMessage: Double
    public static let interval = 60.0
    public static let limit = 50

    /// The first message goes `firstAfter` seconds after the connection (its handshake done).
    public init(now: Double, firstAfter: Double = 5) { nextMessage = now + firstAfter }

    /// When due and something changed: the message to send (and it counts as told).
    public mutating func next(connected: Set<String>, now: Double) -> (added: [String], dropped: [String])? {
        guard now >= nextMessage else { return nil }
        let added = Array(connected.subtracting(told).sorted().prefix(Self.limit))
        let dropped = Array(told.subtracting(connected).sorted().prefix(Self.limit))
        guard !added.isEmpty || !dropped.isEmpty else { return nil }
        told.formUnion(added)
        told.subtract(dropped)
        nextMessage = now + Self.interval
        return (added, dropped)
    }

    /// Of the peers a message adds, those worth remembering: at most `limit`, not us.
    public static func accepted(_ added: [String], own: String) -> [String] {
        Array(added.filter { $0 != own }.prefix(limit))
    }
}
