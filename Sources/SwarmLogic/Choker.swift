/// Who may download from us (BEP 3 tit-for-tat): every round the `slots` interested peers
/// that give us the most (or, when seeding, take the most) are unchoked, plus one optimistic
/// unchoke that rotates every `optimisticRounds` rounds so new peers get a chance. Pure: the
/// random choice is a parameter.
public struct Choker: Sendable {
    /// What the choker knows of one peer.
    public struct Peer: Sendable, Equatable {
        public var id: Int
        public var interested: Bool
        /// Bytes/s they sent us (leeching) or we sent them (seeding), over the last round.
        public var rate: Double

        public init(id: Int, interested: Bool, rate: Double) {
            self.id = id
            self.interested = interested
            self.rate = rate
        }
    }

    public var slots: Int
    public var optimisticRounds: Int
    private var round = 0
    private(set) var optimistic: Int?

    public init(slots: Int = 4, optimisticRounds: Int = 3) {
        self.slots = slots
        self.optimisticRounds = optimisticRounds
    }

    /// One round (every 10 s): the ids to unchoke; everyone else is choked.
    public mutating func round(_ peers: [Peer], pick: (Int) -> Int) -> Set<Int> {
        let interested = peers.filter(\.interested)
        let regular = interested.sorted { $0.rate != $1.rate ? $0.rate > $1.rate : $0.id < $1.id }.prefix(max(0, slots - 1))
        var unchoked = Set(regular.map(\.id))
        let others = interested.filter { !unchoked.contains($0.id) }
        if round % optimisticRounds == 0 || !others.contains(where: { $0.id == optimistic }) {
            optimistic = others.isEmpty ? nil : others[pick(others.count)].id
        }
        if let optimistic { unchoked.insert(optimistic) }
        round += 1
        return unchoked
    }
}
