/// A QR code symbol: a square of dark (true) and light modules, row-major.
///
/// Encoding follows ISO/IEC 18004: byte mode, level M, the smallest version (1–10) that
/// holds the data, Reed–Solomon blocks interleaved, the mask with the lowest penalty.
public struct QRCode: Sendable, Equatable {
    /// Why data cannot be encoded.
    public enum Failure: Error, Equatable {
        /// More than `maximumBytes`.
        case tooLong(bytes: Int)
    }

    /// Version 1–10.
    public let version: Int
    /// The mask pattern chosen (0–7).
    public let mask: Int
    /// Modules per side (17 + 4 × version).
    public let size: Int
    /// `modules[row * size + column]`.
    public let modules: [Bool]

    /// The most bytes a symbol here holds (version 10, level M).
    public static let maximumBytes = 213

    /// Whether the module at `row`, `column` is dark.
    public func isDark(row: Int, column: Int) -> Bool { modules[row * size + column] }

    /// Encodes `text` as UTF-8 bytes.
    public init(text: String) throws(Failure) { try self.init(bytes: Array(text.utf8)) }

    /// Encodes raw bytes.
    public init(bytes: [UInt8]) throws(Failure) {
        guard let version = (1...10).first(where: { Self.fits(bytes.count, version: $0) }) else { throw .tooLong(bytes: bytes.count) }
        let codewords = Self.interleave(Self.dataCodewords(bytes, version: version), version: version)
        var best: (penalty: Int, mask: Int, grid: Grid)?
        for mask in 0..<8 {
            var grid = Grid(version: version)
            grid.drawFunctionPatterns()
            grid.place(codewords)
            grid.apply(mask: mask)
            grid.drawFormat(mask: mask)
            let penalty = grid.penalty()
            if best == nil || penalty < best!.penalty { best = (penalty, mask, grid) }
        }
        self.version = version
        self.mask = best!.mask
        size = best!.grid.size
        modules = best!.grid.dark
    }

    static func fits(_ count: Int, version: Int) -> Bool {
        4 + countBits(version) + 8 * count <= Self.blocks[version - 1].dataCodewords * 8
    }

    static func countBits(_ version: Int) -> Int { version < 10 ? 8 : 16 }

    /// The data bit stream: mode, length, bytes, terminator, padding to the capacity.
    static func dataCodewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        let capacity = blocks[version - 1].dataCodewords * 8
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) {
            for shift in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> shift) & 1 == 1) }
        }
        append(0b0100, 4)
        append(bytes.count, countBits(version))
        for byte in bytes { append(Int(byte), 8) }
        append(0, min(4, capacity - bits.count))
        if bits.count % 8 != 0 { append(0, 8 - bits.count % 8) }
        var padIndex = 0
        while bits.count < capacity {
            append(padIndex % 2 == 0 ? 0xEC : 0x11, 8)
            padIndex += 1
        }
        return stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
    }

    /// Splits data into blocks, appends each block's error correction, interleaves.
    static func interleave(_ data: [UInt8], version: Int) -> [UInt8] {
        let layout = blocks[version - 1]
        let divisor = ReedSolomon.generator(degree: layout.ecPerBlock)
        var dataBlocks: [[UInt8]] = []
        var offset = 0
        for (count, length) in layout.groups {
            for _ in 0..<count {
                dataBlocks.append(Array(data[offset..<offset + length]))
                offset += length
            }
        }
        let ecBlocks = dataBlocks.map { ReedSolomon.remainder($0, divisor: divisor) }
        var result: [UInt8] = []
        for index in 0..<(dataBlocks.map(\.count).max() ?? 0) {
            for block in dataBlocks where index < block.count { result.append(block[index]) }
        }
        for index in 0..<layout.ecPerBlock {
            for block in ecBlocks { result.append(block[index]) }
        }
        return result
    }

    /// Level M block structure of versions 1–10: error-correction codewords per block and
    /// groups of (block count, data codewords per block).
    struct BlockLayout {
        var ecPerBlock: Int
        var groups: [(Int, Int)]
        var dataCodewords: Int { groups.reduce(0) { $0 + $1.0 * $1.1 } }
    }

    static let blocks: [BlockLayout] = [
        BlockLayout(ecPerBlock: 10, groups: [(1, 16)]),
        BlockLayout(ecPerBlock: 16, groups: [(1, 28)]),
        BlockLayout(ecPerBlock: 26, groups: [(1, 44)]),
        BlockLayout(ecPerBlock: 18, groups: [(2, 32)]),
        BlockLayout(ecPerBlock: 24, groups: [(2, 43)]),
        BlockLayout(ecPerBlock: 16, groups: [(4, 27)]),
        BlockLayout(ecPerBlock: 18, groups: [(4, 31)]),
        BlockLayout(ecPerBlock: 22, groups: [(2, 38), (2, 39)]),
        BlockLayout(ecPerBlock: 22, groups: [(3, 36), (2, 37)]),
        BlockLayout(ecPerBlock: 26, groups: [(4, 43), (1, 44)]),
    ]

    /// Centre coordinates of alignment patterns per version.
    static let alignment: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
    ]
}
