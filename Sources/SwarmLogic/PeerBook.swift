/// The addresses a torrent knows (from trackers, peers' BEP 10 handshakes, magnets), which
/// are being dialled, which failed recently, and which hosts are banned. Value type; time
/// is passed in seconds. Bounded: at most `capacity` addresses are remembered.
public struct PeerBook: Sendable {
    public private(set) var known: [String: Double?] = [:]
    public private(set) var connecting: Set<String> = []
    public private(set) var banned: Set<String> = []
    /// Seconds before a failed address is dialled again.
    public var retryAfter: Double
    public var capacity: Int

    public init(retryAfter: Double = 30, capacity: Int = 2000) {
        self.retryAfter = retryAfter
        self.capacity = capacity
    }

    /// The host part of `host:port` (brackets of IPv6 literals kept).
    public static func host(of address: String) -> String {
        String(address[..<(address.lastIndex(of: ":") ?? address.endIndex)])
    }

    /// Learns an address; false when it was known or the book is full.
    @discardableResult
    public mutating func add(_ address: String) -> Bool {
        guard known[address] == nil, known.count < capacity, address.contains(":") else { return false }
        known[address] = .some(nil)
        return true
    }

    public mutating func dialFinished(_ address: String, succeeded: Bool, now: Double) {
        connecting.remove(address)
        if !succeeded, known[address] != nil { known[address] = .some(now) }
    }

    /// A dial that never started (no room, or the network is closed): the address is a
    /// candidate again at once, not counted as a failure.
    public mutating func dialAbandoned(_ address: String) { connecting.remove(address) }

    public mutating func ban(host: String) { banned.insert(host) }

    public func isBanned(_ address: String) -> Bool { banned.contains(Self.host(of: address)) }

    /// Up to `limit` addresses to dial now (not connected, not being dialled, not `own`, not
    /// banned, not failed within `retryAfter`); they are marked as being dialled.
    public mutating func candidates(connected: Set<String>, own: String, limit: Int, now: Double) -> [String] {
        guard limit > 0 else { return [] }
        var chosen: [String] = []
        for (address, failedAt) in known.sorted(by: { $0.key < $1.key }) where chosen.count < limit {
            guard !connected.contains(address), !connecting.contains(address), address != own, !isBanned(address) else { continue }
            if let failedAt, now - failedAt < retryAfter { continue }
            chosen.append(address)
        }
        connecting.formUnion(chosen)
        return chosen
    }
}
