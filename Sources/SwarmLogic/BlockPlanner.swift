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

    struct Outstanding: Sendable {
        var peer: Int
        var block: BlockRange
        var sentAt: Double
    }

    public let geometry: PieceGeometry
    public var pipelineDepth: Int
    public var timeout: Double
    private var outstanding: [Outstanding] = []
    private var received: Set<BlockRange> = []
    private var active: [PieceIndex] = []

    public init(geometry: PieceGeometry, pipelineDepth: Int = 16, timeout: Double = 20) {
        self.geometry = geometry
        self.pipelineDepth = pipelineDepth
        self.timeout = timeout
    }

    /// Pieces currently being filled, oldest first.
    public var activePieces: [PieceIndex] { active }

    /// Starts filling `piece` (the picker's choice).
    public mutating func begin(_ piece: PieceIndex) {
        if !active.contains(piece) { active.append(piece) }
    }

    /// Requests for `peer` (which has `peerHas`) to fill its pipeline from the active pieces.
    public mutating func fill(peer: Int, peerHas: Bitfield, now: Double, endgame: Bool = false) -> [Action] {
        var actions: [Action] = []
        var count = outstanding.filter { $0.peer == peer }.count
        for piece in active where peerHas[piece.value] {
            for block in geometry.blocks(of: piece) where count < pipelineDepth && !received.contains(block) {
                let requesters = outstanding.filter { $0.block == block }
                if requesters.contains(where: { $0.peer == peer }) { continue }
                if !requesters.isEmpty && !endgame { continue }
                outstanding.append(Outstanding(peer: peer, block: block, sentAt: now))
                actions.append(.request(peer: peer, block: block))
                count += 1
            }
        }
        return actions
    }

    /// A block arrived from `peer`. Returns cancels for duplicates requested from others and
    /// whether its piece is now complete (ready for the hash check).
    public mutating func received(_ block: BlockRange, from peer: Int) -> (actions: [Action], pieceComplete: Bool) {
        guard !received.contains(block), active.contains(block.piece) else { return ([], false) }
        received.insert(block)
        let others = outstanding.filter { $0.block == block && $0.peer != peer }
        outstanding.removeAll { $0.block == block }
        let complete = geometry.blocks(of: block.piece).allSatisfy { received.contains($0) }
        if complete { active.removeAll { $0 == block.piece } }
        return (others.map { .cancel(peer: $0.peer, block: $0.block) }, complete)
    }

    /// The hash check failed: every block of the piece is wanted again.
    public mutating func failed(_ piece: PieceIndex) {
        for block in geometry.blocks(of: piece) { received.remove(block) }
        outstanding.removeAll { $0.block.piece == piece }
        if !active.contains(piece) { active.append(piece) }
    }

    /// A peer disconnected or choked us: its requests are free for others.
    public mutating func peerGone(_ peer: Int) {
        outstanding.removeAll { $0.peer == peer }
    }

    /// Expires requests older than `timeout`; their blocks become requestable again.
    public mutating func expire(now: Double) -> [Action] {
        let late = outstanding.filter { now - $0.sentAt >= timeout }
        outstanding.removeAll { now - $0.sentAt >= timeout }
        return Set(late.map(\.peer)).sorted().map { .slowPeer(peer: $0) } + late.map { .cancel(peer: $0.peer, block: $0.block) }
    }

    /// Outstanding requests of a peer.
    public func outstandingCount(peer: Int) -> Int { outstanding.filter { $0.peer == peer }.count }
}
