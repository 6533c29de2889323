/// A piece index that is valid for its torrent: only `PieceGeometry` mints them.
public struct PieceIndex: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: Int
    fileprivate init(_ value: Int) { self.value = value }
    public static func < (lhs: PieceIndex, rhs: PieceIndex) -> Bool { lhs.value < rhs.value }
    public var description: String { "#\(value)" }
}

/// A block request inside a piece (offset and length within the piece).
public struct BlockRange: Hashable, Sendable {
    public let piece: PieceIndex
    public let begin: Int
    public let length: Int
}

/// The piece and block layout of a torrent. All index arithmetic lives here.
public struct PieceGeometry: Sendable, Equatable {
    /// Standard block size (BEP 3 practice).
    public static let blockLength = 16 * 1024

    public let totalLength: Int64
    public let pieceLength: Int
    public let pieceCount: Int

    /// Nil for a non-positive piece length or a negative total.
    public init?(totalLength: Int64, pieceLength: Int) {
        guard pieceLength > 0, totalLength >= 0 else { return nil }
        self.totalLength = totalLength
        self.pieceLength = pieceLength
        pieceCount = totalLength == 0 ? 0 : Int((totalLength + Int64(pieceLength) - 1) / Int64(pieceLength))
    }

    /// A piece index, when `value` is one.
    public func piece(_ value: Int) -> PieceIndex? {
        (0..<pieceCount).contains(value) ? PieceIndex(value) : nil
    }

    /// Every piece, in order.
    public var allPieces: [PieceIndex] { (0..<pieceCount).map(PieceIndex.init) }

    /// The length of `piece` (the last one may be short).
    public func length(of piece: PieceIndex) -> Int {
        piece.value == pieceCount - 1 ? Int(totalLength - Int64(piece.value) * Int64(pieceLength)) : pieceLength
    }

    /// Byte offset of the piece's first byte.
    public func offset(of piece: PieceIndex) -> Int64 { Int64(piece.value) * Int64(pieceLength) }

    /// The blocks of a piece.
    public func blocks(of piece: PieceIndex) -> [BlockRange] {
        let length = length(of: piece)
        return stride(from: 0, to: length, by: Self.blockLength).map {
            BlockRange(piece: piece, begin: $0, length: min(Self.blockLength, length - $0))
        }
    }

    /// How many blocks `piece` has.
    public func blockCount(of piece: PieceIndex) -> Int {
        (length(of: piece) + Self.blockLength - 1) / Self.blockLength
    }

    /// Block `index` of `piece` (callers keep `index < blockCount(of: piece)`); no array built.
    public func block(_ piece: PieceIndex, index: Int) -> BlockRange {
        let begin = index * Self.blockLength
        return BlockRange(piece: piece, begin: begin, length: min(Self.blockLength, length(of: piece) - begin))
    }

    /// The block a peer's `piece` message claims, if it is exactly one of ours.
    public func block(piece: Int, begin: Int, length: Int) -> BlockRange? {
        guard let index = self.piece(piece), begin >= 0, begin % Self.blockLength == 0, length > 0,
              length == min(Self.blockLength, self.length(of: index) - begin) else { return nil }
        return BlockRange(piece: index, begin: begin, length: length)
    }

    /// The pieces holding bytes `[start, end)` of the torrent's byte stream (clamped).
    public func pieces(coveringBytes start: Int64, _ end: Int64) -> [PieceIndex] {
        let lower = max(0, start)
        let upper = min(totalLength, end)
        guard lower < upper, pieceCount > 0 else { return [] }
        let first = Int(lower / Int64(pieceLength))
        let last = Int((upper - 1) / Int64(pieceLength))
        return (first...last).map(PieceIndex.init)
    }
}

/// Which pieces a peer (or we) have. Spare bits of the wire form must be zero.
public struct Bitfield: Equatable, Sendable {
    public private(set) var bytes: [UInt8]
    public let count: Int

    public init(count: Int, all: Bool = false) {
        self.count = max(0, count)
        bytes = [UInt8](repeating: all ? 0xff : 0, count: (max(0, count) + 7) / 8)
        if all { clearSpareBits() }
    }

    /// From a BEP 3 `bitfield` payload; nil when its size or spare bits are wrong.
    public init?(wire: [UInt8], count: Int) {
        guard wire.count == (count + 7) / 8 else { return nil }
        self.count = count
        bytes = wire
        let spare = bytes.count * 8 - count
        if spare > 0, let last = bytes.last, last & UInt8((1 << spare) - 1) != 0 { return nil }
    }

    public subscript(index: Int) -> Bool {
        get { index >= 0 && index < count && bytes[index / 8] & (0x80 >> UInt8(index % 8)) != 0 }
        set {
            guard index >= 0 && index < count else { return }
            if newValue { bytes[index / 8] |= 0x80 >> UInt8(index % 8) } else { bytes[index / 8] &= ~(0x80 >> UInt8(index % 8)) }
        }
    }

    public var setCount: Int { bytes.reduce(0) { $0 + $1.nonzeroBitCount } }
    public var isComplete: Bool { setCount == count }

    mutating func clearSpareBits() {
        let spare = bytes.count * 8 - count
        if spare > 0 { bytes[bytes.count - 1] &= ~UInt8((1 << spare) - 1) }
    }
}
