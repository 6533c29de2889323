import BitTorrentProtocol

/// Peers other nodes announced to us (`announce_peer`), answered to `get_peers`. Each entry
/// lives `lifetime` seconds; at most `hashCapacity` info-hashes and `peersPerHash` peers each
/// (the oldest announcement makes room). Value type; time is passed in seconds.
public struct DHTPeerStore: Sendable {
    public var lifetime: Double = 30 * 60
    public var hashCapacity = 2_000
    public var peersPerHash = 200
    private var peers: [[UInt8]: [CompactPeer: Double]] = [:]

    public init() {}

    public var hashCount: Int { peers.count }

    public mutating func add(_ peer: CompactPeer, for infoHash: [UInt8], now: Double) {
        if peers[infoHash] == nil {
            guard peers.count < hashCapacity else { return }
            peers[infoHash] = [:]
        }
        if peers[infoHash]!.count >= peersPerHash, peers[infoHash]![peer] == nil,
           let oldest = peers[infoHash]!.min(by: { $0.value < $1.value })?.key {
            peers[infoHash]![oldest] = nil
        }
        peers[infoHash]![peer] = now
    }

    /// Up to `limit` live peers of an info-hash (BEP 5 answers fit in one datagram: ~50).
    public func peers(for infoHash: [UInt8], now: Double, limit: Int = 50) -> [CompactPeer] {
        Array((peers[infoHash] ?? [:]).filter { now - $0.value < lifetime }.keys.prefix(limit))
    }

    public mutating func expire(now: Double) {
        for (hash, entries) in peers {
            let live = entries.filter { now - $0.value < lifetime }
            peers[hash] = live.isEmpty ? nil : live
        }
    }
}

/// `announce_peer` tokens (BEP 5): a hash of a secret and the asker's IP; the secret changes
/// every five minutes and the previous one is still accepted, so a token lives 5–10 minutes.
/// The hash and the secrets are parameters (L0: no crypto, no randomness here).
public struct DHTTokens: Sendable {
    public let hash: @Sendable ([UInt8]) -> [UInt8]
    private var current: [UInt8]
    private var previous: [UInt8]
    private var rotatedAt: Double
    public var rotateEvery: Double = 300

    public init(secret: [UInt8], now: Double, hash: @escaping @Sendable ([UInt8]) -> [UInt8]) {
        self.hash = hash
        current = secret
        previous = secret
        rotatedAt = now
    }

    /// Rotates when due; `secret` is the next one.
    public mutating func rotateIfDue(now: Double, secret: [UInt8]) {
        guard now - rotatedAt >= rotateEvery else { return }
        previous = current
        current = secret
        rotatedAt = now
    }

    public func token(for ip: [UInt8]) -> [UInt8] { Array(hash(current + ip).prefix(8)) }

    public func isValid(_ token: [UInt8], for ip: [UInt8]) -> Bool {
        token == Array(hash(current + ip).prefix(8)) || token == Array(hash(previous + ip).prefix(8))
    }
}

/// Inbound query limits: a per-IP token bucket (`perSecond`, `burst`) for at most `capacity`
/// IPs, plus a global ceiling. Value type; time is passed in seconds.
public struct DHTQueryLimiter: Sendable {
    public var perSecond: Double = 20
    public var burst: Double = 40
    public var globalPerSecond: Double = 500
    public var capacity = 4_096
    private var buckets: [[UInt8]: (tokens: Double, at: Double)] = [:]
    private var global: (tokens: Double, at: Double) = (500, 0)

    public init() {}

    public mutating func allow(ip: [UInt8], now: Double) -> Bool {
        global.tokens = min(globalPerSecond, global.tokens + (now - global.at) * globalPerSecond)
        global.at = now
        guard global.tokens >= 1 else { return false }
        var bucket = buckets[ip] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * perSecond)
        bucket.at = now
        guard bucket.tokens >= 1 else { buckets[ip] = bucket; return false }
        bucket.tokens -= 1
        global.tokens -= 1
        if buckets[ip] == nil && buckets.count >= capacity {
            // Forget IPs whose buckets are full again (they are as new), else refuse.
            buckets = buckets.filter { min(burst, $0.value.tokens + (now - $0.value.at) * perSecond) < burst }
            guard buckets.count < capacity else { return false }
        }
        buckets[ip] = bucket
        return true
    }
}
