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

    /// One piece being filled: per block, whether it arrived and who was asked when. `idle`
    /// counts blocks neither received nor requested, and no idle block lies before `cursor`,
    /// so topping up a pipeline after each block costs O(active pieces), not O(blocks).
    struct PieceState: Sendable {
        var received: [Bool]
        var requesters: [[Int: Double]]
        var receivedCount = 0
        var idle: Int
        var cursor = 0

        init(blocks: Int) {
            received = Array(repeating: false, count: blocks)
            requesters = Array(repeating: [:], count: blocks)
            idle = blocks
        }
    }

    private var states: [PieceIndex: PieceState] = [:]
    private var active: [PieceIndex] = []
    private var perPeer: [Int: Int] = [:]

    public init(geometry: PieceGeometry, pipelineDepth: Int = 16, timeout: Double = 20) {
        self.geometry = geometry
        self.pipelineDepth = pipelineDepth
        self.timeout = timeout
    }

    /// Pieces currently being filled, in fill order.
    public var activePieces: [PieceIndex] { active }

    /// Starts filling `piece` (the picker's choice).
    public mutating func begin(_ piece: PieceIndex) {
        guard states[piece] == nil else { return }
        states[piece] = PieceState(blocks: geometry.blockCount(of: piece))
        active.append(piece)
    }

    /// Moves `urgent` pieces (a stream's deadlines, earliest first) to the front of the fill
    /// order, so a seek is served before older background work.
    public mutating func prioritize(_ urgent: [PieceIndex]) {
        let wanted = urgent.filter { states[$0] != nil }
        guard !wanted.isEmpty, Array(active.prefix(wanted.count)) != wanted else { return }
        let set = Set(wanted)
        active = wanted + active.filter { !set.contains($0) }
    }

    /// Requests for `peer` (which has `peerHas`) to fill its pipeline from the active pieces.
    public mutating func fill(peer: Int, peerHas: Bitfield, now: Double, endgame: Bool = false) -> [Action] {
        var actions: [Action] = []
        var count = perPeer[peer] ?? 0
        guard count < pipelineDepth else { return [] }
        for piece in active where peerHas[piece.value] {
            guard let state = states[piece], endgame || state.idle > 0 else { continue }
            let blocks = state.received.count
            var index = endgame ? 0 : state.cursor
            while index < blocks && count < pipelineDepth {
                if !states[piece]!.received[index] {
                    let requesters = states[piece]!.requesters[index]
                    if requesters.isEmpty {
                        states[piece]!.idle -= 1
                    } else if !endgame || requesters[peer] != nil {
                        index += 1
                        continue
                    }
                    states[piece]!.requesters[index][peer] = now
                    actions.append(.request(peer: peer, block: geometry.block(piece, index: index)))
                    count += 1
                }
                index += 1
            }
            // Every block before `index` is now requested or received.
            states[piece]!.cursor = max(states[piece]!.cursor, index)
            if count >= pipelineDepth { break }
        }
        perPeer[peer] = count
        return actions
    }

    /// A block arrived from `peer`. Returns cancels for duplicates requested from others and
    /// whether its piece is now complete (ready for the hash check).
    public mutating func received(_ block: BlockRange, from peer: Int) -> (actions: [Action], pieceComplete: Bool) {
        let piece = block.piece
        let index = block.begin / PieceGeometry.blockLength
        guard states[piece] != nil else { return ([], false) }
        let requesters = states[piece]!.requesters[index]
        states[piece]!.requesters[index] = [:]
        for requester in requesters.keys { perPeer[requester, default: 1] -= 1 }
        guard !states[piece]!.received[index] else { return ([], false) }
        if requesters.isEmpty { states[piece]!.idle -= 1 }
        states[piece]!.received[index] = true
        states[piece]!.receivedCount += 1
        let complete = states[piece]!.receivedCount == states[piece]!.received.count
        if complete {
            states[piece] = nil
            active.removeAll { $0 == piece }
        }
        return (requesters.keys.filter { $0 != peer }.sorted().map { .cancel(peer: $0, block: block) }, complete)
    }

    /// The hash check failed: every block of the piece is wanted again.
    public mutating func failed(_ piece: PieceIndex) {
        if let state = states[piece] {
            for requesters in state.requesters { for requester in requesters.keys { perPeer[requester, default: 1] -= 1 } }
        } else {
            active.append(piece)
        }
        states[piece] = PieceState(blocks: geometry.blockCount(of: piece))
    }

    /// Drops a piece from the plan (it was completed elsewhere or is no longer wanted);
    /// returns cancels for its outstanding requests.
    public mutating func drop(_ piece: PieceIndex) -> [Action] {
        guard let state = states.removeValue(forKey: piece) else { return [] }
        active.removeAll { $0 == piece }
        var actions: [Action] = []
        for (index, requesters) in state.requesters.enumerated() {
            for requester in requesters.keys.sorted() {
                perPeer[requester, default: 1] -= 1
                actions.append(.cancel(peer: requester, block: geometry.block(piece, index: index)))
            }
        }
        return actions
    }

    /// Forgets requests matching `condition`; their blocks become requestable again.
    private mutating func release(where condition: (PieceIndex, Int, Double) -> Bool) -> [(peer: Int, block: BlockRange)] {
        var released: [(peer: Int, block: BlockRange)] = []
        for piece in active {
            guard let state = states[piece] else { continue }
            for index in state.requesters.indices where !state.requesters[index].isEmpty {
                for (peer, sentAt) in state.requesters[index] where condition(piece, peer, sentAt) {
                    states[piece]!.requesters[index][peer] = nil
                    perPeer[peer, default: 1] -= 1
                    released.append((peer, geometry.block(piece, index: index)))
                }
                if states[piece]!.requesters[index].isEmpty && !state.received[index] {
                    states[piece]!.idle += 1
                    states[piece]!.cursor = min(states[piece]!.cursor, index)
                }
            }
        }
        return released
    }

    /// A seek: cancels outstanding requests for pieces outside `keep` (the new window) so the
    /// peers' queues serve the new position first. The pieces stay planned; their blocks are
    /// requested again once the urgent ones are under way.
    public mutating func cancelRequests(outside keep: Set<PieceIndex>) -> [Action] {
        release { piece, _, _ in !keep.contains(piece) }
            .sorted { ($0.block.piece.value, $0.block.begin, $0.peer) < ($1.block.piece.value, $1.block.begin, $1.peer) }
            .map { .cancel(peer: $0.peer, block: $0.block) }
    }

    /// A peer disconnected or choked us: its requests are free for others.
    public mutating func peerGone(_ peer: Int) {
        _ = release { _, requester, _ in requester == peer }
        perPeer[peer] = nil
    }

    /// Expires requests older than `timeout`; their blocks become requestable again.
    public mutating func expire(now: Double) -> [Action] {
        let timeout = timeout
        let late = release { _, _, sentAt in now - sentAt >= timeout }
            .sorted { ($0.peer, $0.block.piece.value, $0.block.begin) < ($1.peer, $1.block.piece.value, $1.block.begin) }
        return Set(late.map(\.peer)).sorted().map { .slowPeer(peer: $0) } + late.map { .cancel(peer: $0.peer, block: $0.block) }
    }

    func hasReceived(_ block: BlockRange) -> Bool {
        states[block.piece]?.received[block.begin / PieceGeometry.blockLength] ?? false
    }

    /// Outstanding requests of a peer.
    public func outstandingCount(peer: Int) -> Int { perPeer[peer] ?? 0 }

    /// Whether a block is currently requested from `peer` (a `piece` we did not ask for is ignored).
    public func isRequested(_ block: BlockRange, from peer: Int) -> Bool {
        states[block.piece]?.requesters[block.begin / PieceGeometry.blockLength][peer] != nil
    }
}

extension BlockPlanner {
    /// Whether a block that arrived is still wanted (its piece is being filled and the block
    /// is not in yet): blocks of other pieces are dropped without buffering them.
    public func wants(_ block: BlockRange) -> Bool {
        guard let state = states[block.piece] else { return false }
        return !state.received[block.begin / PieceGeometry.blockLength]
    }
}
