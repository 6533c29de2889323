import BitTorrentProtocol

/// One iterative BEP 5 lookup (`get_peers` for an info-hash, `find_node` for an id): ask the
/// closest known nodes, `alpha` at a time, learn closer ones from their answers, stop when
/// the `k` closest that are alive have all answered. Peers found are collected as they come
/// (a stream can start before the lookup ends); the `k` closest answering nodes with tokens
/// are where we announce. Bounded: at most `capacity` candidates and `peerCapacity` peers.
/// Value type; time is passed in seconds.
public struct DHTLookup: Sendable {
    public enum Kind: Sendable, Equatable { case getPeers, findNode }

    enum State: Sendable, Equatable {
        case fresh
        case asked(at: Double)
        case answered(token: [UInt8]?)
        case failed
    }

    struct Candidate: Sendable {
        var node: DHTNode
        var state: State
    }

    public let target: [UInt8]
    public let kind: Kind
    public var alpha = 3
    public var capacity = 64
    public var peerCapacity = 500
    var candidates: [Candidate] = []
    public private(set) var peers: [CompactPeer] = []
    private var seenPeers: Set<CompactPeer> = []
    public private(set) var queriesSent = 0

    public init(target: [UInt8], kind: Kind, seeds: [DHTNode]) {
        self.target = target
        self.kind = kind
        learn(seeds)
    }

    /// Nodes to query now (marked as asked): the closest fresh ones while fewer than
    /// `alpha` are in flight.
    public mutating func next(now: Double) -> [DHTNode] {
        var inFlight = candidates.filter { if case .asked = $0.state { return true } else { return false } }.count
        var chosen: [DHTNode] = []
        var considered = 0
        for i in candidates.indices where inFlight < alpha {
            if case .failed = candidates[i].state { continue }
            considered += 1
            // Past the k closest live candidates nothing is closer to learn.
            if considered > DHTRoutingTable.k { break }
            guard candidates[i].state == .fresh else { continue }
            candidates[i].state = .asked(at: now)
            chosen.append(candidates[i].node)
            inFlight += 1
        }
        queriesSent += chosen.count
        return chosen
    }

    /// A node answered: its nodes become candidates, its peers are collected. Returns the
    /// peers that are new.
    @discardableResult
    public mutating func answered(by address: CompactPeer, nodes: [DHTNode], values: [CompactPeer], token: [UInt8]?) -> [CompactPeer] {
        guard let i = candidates.firstIndex(where: { $0.node.address == address }) else { return [] }
        candidates[i].state = .answered(token: token)
        learn(nodes)
        var fresh: [CompactPeer] = []
        for peer in values where peers.count < peerCapacity && seenPeers.insert(peer).inserted {
            peers.append(peer)
            fresh.append(peer)
        }
        return fresh
    }

    public mutating func failed(_ address: CompactPeer) {
        guard let i = candidates.firstIndex(where: { $0.node.address == address }) else { return }
        candidates[i].state = .failed
    }

    /// Queries unanswered for `timeout` seconds count as failed; returns their addresses.
    public mutating func expire(now: Double, timeout: Double) -> [CompactPeer] {
        var expired: [CompactPeer] = []
        for i in candidates.indices {
            if case let .asked(at) = candidates[i].state, now - at >= timeout {
                candidates[i].state = .failed
                expired.append(candidates[i].node.address)
            }
        }
        return expired
    }

    /// Done: nothing in flight and the k closest live candidates have all answered.
    public var isDone: Bool {
        var considered = 0
        for candidate in candidates {
            switch candidate.state {
            case .failed: continue
            case .asked, .fresh: return false
            case .answered: considered += 1
            }
            if considered >= DHTRoutingTable.k { return true }
        }
        return true
    }

    /// The k closest nodes that answered with a token: where `announce_peer` goes.
    public var announceTargets: [(node: DHTNode, token: [UInt8])] {
        Array(candidates.compactMap { candidate -> (DHTNode, [UInt8])? in
            if case let .answered(token?) = candidate.state { return (candidate.node, token) }
            return nil
        }.prefix(DHTRoutingTable.k))
    }

    /// Candidates by state (fresh, asked, answered, failed), for logs.
    public var stateCounts: (fresh: Int, asked: Int, answered: Int, failed: Int) {
        var counts = (fresh: 0, asked: 0, answered: 0, failed: 0)
        for candidate in candidates {
            switch candidate.state {
            case .fresh: counts.fresh += 1
            case .asked: counts.asked += 1
            case .answered: counts.answered += 1
            case .failed: counts.failed += 1
            }
        }
        return counts
    }

    /// Nodes that answered, closest first.
    public var answeredNodes: [DHTNode] {
        candidates.compactMap { if case .answered = $0.state { return $0.node } else { return nil } }
    }

    /// Adds candidates (seeds, nodes from answers), keeping the closest `capacity`.
    public mutating func learn(_ nodes: [DHTNode]) {
        var changed = false
        for node in nodes where node.id.count == 20 && !candidates.contains(where: { $0.node.address == node.address || $0.node.id == node.id }) {
            candidates.append(Candidate(node: node, state: .fresh))
            changed = true
        }
        guard changed else { return }
        candidates.sort { DHTDistance.closer($0.node.id, than: $1.node.id, to: target) }
        // Keep the closest; never forget a query in flight (its answer must still count).
        while candidates.count > capacity {
            guard let drop = candidates.lastIndex(where: { if case .asked = $0.state { return false } else { return true } }) else { break }
            candidates.remove(at: drop)
        }
    }
}
