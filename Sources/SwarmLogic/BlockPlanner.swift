import BitTorrentCore

/// Which blocks to request from which peer (per-peer pipelining), with request timeouts,
/// stealing from slow peers and endgame duplicates. Value type; time is passed in seconds.
///
/// Each peer keeps up to `pipelineDepth` outstanding block requests. A request older than
/// `timeout` is considered lost: the block becomes requestable again (from any peer) and the
/// slow peer is reported so the engine can score it. In endgame (every missing block is
/// requested somewhere) a block may be requested from a second peer; when it arrives, the
/// other requests for it are returned as cancels.
public struct BlockPlanner: Sendable {
    /// What the engine should do.
    public enum Action: Equatable, Sendable {
        case request(peer: Int, block: BlockRange)
        case cancel(peer: Int, block: BlockRange)
        /// The peer let a request time out (for peer scoring).
        case slowPeer(peer: Int)
    }

    public let geometry: PieceGeometry
    public var pipelineDepth: Int
    public var timeout: Double
    /// Outstanding requests: block → (peer → time sent). Indexed by block so that filling a
    /// pipeline costs O(blocks of the active pieces), not O(blocks × requests).
    private var requests: [BlockRange: [Int: Double]] = [:]
    private var perPeer: [Int: Int] = [:]
    private var received: Set<BlockRange> = []
    private var active: [PieceIndex] = []

    public init(geometry: PieceGeometry, pipelineDepth: Int = 16, timeout: Double = 20) {
        self.geometry = geometry
        self.pipelineDepth = pipelineDepth
        self.timeout = timeout
    }

    /// Pieces currently being filled, in fill order.
    public var activePieces: [PieceIndex] { active }

    /// Starts filling `piece` (the picker's choice).
    public mutating func begin(_ piece: PieceIndex) {
        if !active.contains(piece) { active.append(piece) }
    }

    /// Moves `urgent` pieces (a stream's deadlines, earliest first) to the front of the fill
    /// order, so a seek is served before older background work.
    public mutating func prioritize(_ urgent: [PieceIndex]) {
        let wanted = urgent.filter { active.contains($0) }
        guard !wanted.isEmpty else { return }
        active = wanted + active.filter { !wanted.contains($0) }
    }

    /// Requests for `peer` (which has `peerHas`) to fill its pipeline from the active pieces.
    public mutating func fill(peer: Int, peerHas: Bitfield, now: Double, endgame: Bool = false) -> [Action] {
        var actions: [Action] = []
        var count = perPeer[peer] ?? 0
        guard count < pipelineDepth else { return [] }
        for piece in active where peerHas[piece.value] {
            for block in geometry.blocks(of: piece) where !received.contains(block) {
                if count >= pipelineDepth { break }
                let requesters = requests[block] ?? [:]
                if requesters[peer] != nil { continue }
                if !requesters.isEmpty && !endgame { continue }
                requests[block, default: [:]][peer] = now
                actions.append(.request(peer: peer, block: block))
                count += 1
            }
            if count >= pipelineDepth { break }
        }
        perPeer[peer] = count
        return actions
    }

    /// A block arrived from `peer`. Returns cancels for duplicates requested from others and
    /// whether its piece is now complete (ready for the hash check).
    public mutating func received(_ block: BlockRange, from peer: Int) -> (actions: [Action], pieceComplete: Bool) {
        let requesters = requests.removeValue(forKey: block) ?? [:]
        for requester in requesters.keys { perPeer[requester, default: 1] -= 1 }
        guard !received.contains(block), active.contains(block.piece) else { return ([], false) }
        received.insert(block)
        let others = requesters.keys.filter { $0 != peer }.sorted()
        let complete = geometry.blocks(of: block.piece).allSatisfy { received.contains($0) }
        if complete {
            active.removeAll { $0 == block.piece }
            for done in geometry.blocks(of: block.piece) { received.remove(done) }
        }
        return (others.map { .cancel(peer: $0, block: block) }, complete)
    }

    /// The hash check failed: every block of the piece is wanted again.
    public mutating func failed(_ piece: PieceIndex) {
        for block in geometry.blocks(of: piece) {
            received.remove(block)
            for requester in (requests.removeValue(forKey: block) ?? [:]).keys { perPeer[requester, default: 1] -= 1 }
        }
        if !active.contains(piece) { active.append(piece) }
    }

    /// Drops a piece from the plan (it was completed elsewhere or is no longer wanted);
    /// returns cancels for its outstanding requests.
    public mutating func drop(_ piece: PieceIndex) -> [Action] {
        var actions: [Action] = []
        for block in geometry.blocks(of: piece) {
            received.remove(block)
            for requester in (requests.removeValue(forKey: block) ?? [:]).keys.sorted() {
                perPeer[requester, default: 1] -= 1
                actions.append(.cancel(peer: requester, block: block))
            }
        }
        active.removeAll { $0 == piece }
        return actions
    }

    /// A seek: cancels outstanding requests for pieces outside `keep` (the new window) so the
    /// peers' queues serve the new position first. The pieces stay planned; their blocks are
    /// requested again once the urgent ones are under way.
    public mutating func cancelRequests(outside keep: Set<PieceIndex>) -> [Action] {
        var actions: [Action] = []
        for block in requests.keys.sorted(by: { ($0.piece.value, $0.begin) < ($1.piece.value, $1.begin) }) where !keep.contains(block.piece) {
            for requester in (requests.removeValue(forKey: block) ?? [:]).keys.sorted() {
                perPeer[requester, default: 1] -= 1
                actions.append(.cancel(peer: requester, block: block))
            }
        }
        return actions
    }

    /// A peer disconnected or choked us: its requests are free for others.
    public mutating func peerGone(_ peer: Int) {
        for block in Array(requests.keys) where requests[block]?[peer] != nil {
            requests[block]![peer] = nil
            if requests[block]!.isEmpty { requests[block] = nil }
        }
        perPeer[peer] = nil
    }

    /// Expires requests older than `timeout`; their blocks become requestable again.
    public mutating func expire(now: Double) -> [Action] {
        var late: [(peer: Int, block: BlockRange)] = []
        for (block, requesters) in requests {
            for (peer, sentAt) in requesters where now - sentAt >= timeout { late.append((peer, block)) }
        }
        late.sort { ($0.peer, $0.block.piece.value, $0.block.begin) < ($1.peer, $1.block.piece.value, $1.block.begin) }
        for entry in late {
            requests[entry.block]?[entry.peer] = nil
            if requests[entry.block]?.isEmpty == true { requests[entry.block] = nil }
            perPeer[entry.peer, default: 1] -= 1
        }
        return Set(late.map(\.peer)).sorted().map { .slowPeer(peer: $0) } + late.map { .cancel(peer: $0.peer, block: $0.block) }
    }

    func hasReceived(_ block: BlockRange) -> Bool { received.contains(block) }

    /// Outstanding requests of a peer.
    public func outstandingCount(peer: Int) -> Int { perPeer[peer] ?? 0 }

    /// Whether a block is currently requested from `peer` (a `piece` we did not ask for is ignored).
    public func isRequested(_ block: BlockRange, from peer: Int) -> Bool { requests[block]?[peer] != nil }
}

extension BlockPlanner {
    /// Whether a block that arrived is still wanted (its piece is being filled and the block
    /// is not in yet): blocks of other pieces are dropped without buffering them.
    public func wants(_ block: BlockRange) -> Bool {
        activePieces.contains(block.piece) && !hasReceived(block)
    }
}
