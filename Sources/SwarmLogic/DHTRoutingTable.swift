import BitTorrentProtocol

/// A BEP 5 routing table: one bucket of at most `k` nodes per shared-prefix length with our
/// own id (160 buckets, so at most 1 280 nodes: bounded). A node that answered within
/// `goodFor` seconds is good; one that missed two queries in a row is bad and is replaced
/// first; a full bucket of good nodes refuses newcomers (old nodes are the stable ones).
/// Value type; time is passed in seconds.
public struct DHTRoutingTable: Sendable {
    public struct Entry: Sendable, Equatable {
        public var node: DHTNode
        public var lastSeen: Double
        public var failures: Int
        /// Whether it ever answered one of our queries (nodes that only queried us are not
        /// handed out until they do).
        public var verified: Bool
    }

    public let ownID: [UInt8]
    public static let k = 8
    public var goodFor: Double = 15 * 60
    public private(set) var buckets: [[Entry]]
    /// When each bucket last saw a node join or answer (refresh after 15 idle minutes).
    public private(set) var touched: [Double]

    public init(ownID: [UInt8], now: Double) {
        precondition(ownID.count == 20)
        self.ownID = ownID
        buckets = Array(repeating: [], count: 160)
        touched = Array(repeating: now, count: 160)
    }

    public var count: Int { buckets.reduce(0) { $0 + $1.count } }
    /// Nodes that answered us (a flood of queries from made-up ids does not count).
    public var verifiedCount: Int { buckets.reduce(0) { $0 + $1.filter(\.verified).count } }
    public var nodes: [DHTNode] { buckets.flatMap { $0.map(\.node) } }

    /// Whether `id` is acceptable at all: 20 bytes, not ours, not all zeros.
    public func accepts(id: [UInt8]) -> Bool {
        id.count == 20 && id != ownID && id.contains { $0 != 0 }
    }

    /// Records a node we heard from. `responded`: it answered our query (else it queried us).
    public mutating func heard(_ node: DHTNode, responded: Bool, now: Double) {
        guard accepts(id: node.id) else { return }
        let index = min(159, DHTDistance.sharedPrefix(ownID, node.id))
        var bucket = buckets[index]
        // The same address under a new id (a restarted node) replaces the old entry.
        if let i = bucket.firstIndex(where: { $0.node.address == node.address && $0.node.id != node.id }) { bucket.remove(at: i) }
        if let i = bucket.firstIndex(where: { $0.node.id == node.id }) {
            bucket[i].node = node
            bucket[i].lastSeen = now
            if responded { bucket[i].failures = 0; bucket[i].verified = true }
            touched[index] = now
        } else {
            let entry = Entry(node: node, lastSeen: now, failures: 0, verified: responded)
            if bucket.count < Self.k {
                bucket.append(entry)
                touched[index] = now
            } else if let worst = replaceable(in: bucket, now: now), responded || !bucket[worst].verified {
                bucket[worst] = entry
                touched[index] = now
            }
        }
        buckets[index] = bucket
    }

    /// A bad node first, else the stalest questionable one.
    private func replaceable(in bucket: [Entry], now: Double) -> Int? {
        if let bad = bucket.indices.first(where: { bucket[$0].failures >= 2 }) { return bad }
        let stale = bucket.indices.filter { now - bucket[$0].lastSeen > goodFor }
        return stale.min { bucket[$0].lastSeen < bucket[$1].lastSeen }
    }

    /// A query to `address` timed out; after five misses the node is dropped.
    public mutating func failed(_ address: CompactPeer) {
        for index in buckets.indices {
            guard let i = buckets[index].firstIndex(where: { $0.node.address == address }) else { continue }
            buckets[index][i].failures += 1
            if buckets[index][i].failures >= 5 { buckets[index].remove(at: i) }
            return
        }
    }

    /// The `count` closest nodes to `target`, bad ones left out, verified ones only unless
    /// too few are.
    public func closest(to target: [UInt8], count: Int = k) -> [DHTNode] {
        let usable = buckets.joined().filter { $0.failures < 2 }
        let verified = usable.filter(\.verified)
        let pool = verified.count >= count ? verified : usable
        return Array(DHTNode.sorted(pool.map(\.node), by: target).prefix(count))
    }

    /// Buckets nothing happened in for `idle` seconds, up to the deepest non-empty one + 1
    /// (deeper buckets cannot fill): each should be refreshed with a lookup of an id in it.
    public func staleBuckets(now: Double, idle: Double = 15 * 60) -> [Int] {
        let deepest = (buckets.lastIndex { !$0.isEmpty } ?? 0) + 1
        return (0...min(159, deepest)).filter { now - touched[$0] > idle }
    }

    public mutating func markRefreshed(_ bucket: Int, now: Double) { touched[bucket] = now }

    /// Nodes not heard from for `goodFor` seconds (to ping, so liveness stays known).
    public func questionable(now: Double, limit: Int) -> [DHTNode] {
        Array(buckets.joined().filter { now - $0.lastSeen > goodFor }.prefix(limit).map(\.node))
    }
}
