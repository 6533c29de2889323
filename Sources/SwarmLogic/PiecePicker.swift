import BitTorrentCore

/// Chooses which piece to download next (reference anchors: libtorrent's piece deadlines,
/// anacrolix's reader-driven priorities). A value type: events in, decisions out, time passed
/// in as seconds.
///
/// Order of choice among pieces the peer has and we need:
/// 1. pieces with a streaming deadline, earliest deadline first (the playback window);
/// 2. higher priority (file starts and ends are raised when a stream begins);
/// 3. rarest first (fewest peers have it), lowest index breaking ties.
/// Pieces already being downloaded are not picked again until endgame.
public struct PiecePicker: Sendable {
    /// Download priority of a piece.
    public enum Priority: Int, Sendable, Comparable {
        case skip = 0, normal = 1, high = 5, top = 7
        public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let geometry: PieceGeometry
    public private(set) var have: Bitfield
    private(set) var availability: [Int]
    private(set) var priority: [Priority]
    private(set) var deadline: [Double?]
    private(set) var inProgress: Set<Int> = []

    public init(geometry: PieceGeometry, have: Bitfield? = nil) {
        self.geometry = geometry
        self.have = have ?? Bitfield(count: geometry.pieceCount)
        availability = Array(repeating: 0, count: geometry.pieceCount)
        priority = Array(repeating: .normal, count: geometry.pieceCount)
        deadline = Array(repeating: nil, count: geometry.pieceCount)
    }

    // MARK: Peer events

    public mutating func peerHas(_ piece: PieceIndex) { availability[piece.value] += 1 }

    public mutating func peerBitfield(_ bitfield: Bitfield) {
        for index in 0..<geometry.pieceCount where bitfield[index] { availability[index] += 1 }
    }

    public mutating func peerLeft(_ bitfield: Bitfield) {
        for index in 0..<geometry.pieceCount where bitfield[index] { availability[index] = max(0, availability[index] - 1) }
    }

    // MARK: Our progress

    public mutating func started(_ piece: PieceIndex) { inProgress.insert(piece.value) }

    /// A piece passed its hash check.
    public mutating func completed(_ piece: PieceIndex) {
        have[piece.value] = true
        inProgress.remove(piece.value)
        deadline[piece.value] = nil
    }

    /// A piece failed its hash check (or its peers vanished): pick it again.
    public mutating func abandoned(_ piece: PieceIndex) { inProgress.remove(piece.value) }

    // MARK: Priorities and deadlines

    public mutating func setPriority(_ value: Priority, for pieces: [PieceIndex]) {
        for piece in pieces { priority[piece.value] = value }
    }

    /// Raises the first and last pieces of a file's byte range (players read the container
    /// header at the start and often the index at the end before playing).
    public mutating func prioritizeEnds(ofBytes start: Int64, _ end: Int64, pieces count: Int = 2) {
        let covering = geometry.pieces(coveringBytes: start, end)
        setPriority(.top, for: Array(covering.prefix(count)) + Array(covering.suffix(1)))
    }

    /// Streaming: the pieces of `[position, position + readahead)` get deadlines at which
    /// playback will reach them at `bytesPerSecond`; earlier deadlines outside the window are
    /// cleared (a seek moves the window).
    public mutating func setPlaybackWindow(position: Int64, readahead: Int64, bytesPerSecond: Double, now: Double) {
        for index in deadline.indices { deadline[index] = nil }
        for piece in geometry.pieces(coveringBytes: position, position + readahead) where !have[piece.value] {
            let bytesAhead = max(0, geometry.offset(of: piece) - position)
            deadline[piece.value] = now + Double(bytesAhead) / max(1, bytesPerSecond)
        }
    }

    /// One stream's read window.
    public struct Window: Sendable, Equatable {
        public var position: Int64
        public var readahead: Int64
        public var bytesPerSecond: Double

        public init(position: Int64, readahead: Int64, bytesPerSecond: Double) {
            self.position = position
            self.readahead = readahead
            self.bytesPerSecond = bytesPerSecond
        }
    }

    /// Several streams at once: each piece gets the earliest deadline any window gives it, so
    /// concurrent streams interleave by urgency; pieces outside every window lose theirs.
    public mutating func setPlaybackWindows(_ windows: [Window], now: Double) {
        for index in deadline.indices { deadline[index] = nil }
        for window in windows {
            for piece in geometry.pieces(coveringBytes: window.position, window.position + window.readahead) where !have[piece.value] {
                let bytesAhead = max(0, geometry.offset(of: piece) - window.position)
                let due = now + Double(bytesAhead) / max(1, window.bytesPerSecond)
                deadline[piece.value] = min(deadline[piece.value] ?? .infinity, due)
            }
        }
    }

    /// Pieces with a deadline, earliest first.
    public var piecesByDeadline: [PieceIndex] {
        deadline.indices.filter { deadline[$0] != nil }.sorted { (deadline[$0]!, $0) < (deadline[$1]!, $1) }.compactMap { geometry.piece($0) }
    }

    /// Whether we want any piece of `peerHas` (interest, BEP 3).
    public func wantsAny(of peerHas: Bitfield) -> Bool {
        for index in 0..<geometry.pieceCount where peerHas[index] && !have[index] && priority[index] != .skip { return true }
        return false
    }

    /// A piece's priority.
    public func priority(of piece: PieceIndex) -> Priority { priority[piece.value] }

    /// The deadline of a piece, if it is in the playback window.
    public func deadline(of piece: PieceIndex) -> Double? { deadline[piece.value] }

    // MARK: Decision

    /// The piece to request from a peer that has `peerHas`, or nil. In `endgame` (every
    /// missing piece is already being downloaded) in-progress pieces may be picked again.
    public func pick(from peerHas: Bitfield, endgame: Bool = false) -> PieceIndex? {
        var best: (index: Int, key: (Double, Int, Int, Int))?
        for index in 0..<geometry.pieceCount where peerHas[index] && !have[index] && priority[index] != .skip {
            if inProgress.contains(index) && !endgame { continue }
            // Smaller keys win: deadline, then -priority, then availability, then index.
            let key = (deadline[index] ?? .infinity, -priority[index].rawValue, availability[index], index)
            if best == nil || key < best!.key { best = (index, key) }
        }
        return best.flatMap { geometry.piece($0.index) }
    }

    /// Whether every wanted piece we lack is already being downloaded.
    public var inEndgame: Bool {
        (0..<geometry.pieceCount).allSatisfy { have[$0] || priority[$0] == .skip || inProgress.contains($0) }
    }
}
