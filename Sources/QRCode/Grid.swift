/// The module grid while a symbol is drawn: function patterns (finders, timing, alignment,
/// format and version areas) are marked so data and masks skip them.
struct Grid {
    let version: Int
    let size: Int
    var dark: [Bool]
    var isFunction: [Bool]

    init(version: Int) {
        self.version = version
        size = 17 + 4 * version
        dark = Array(repeating: false, count: size * size)
        isFunction = Array(repeating: false, count: size * size)
    }

    mutating func set(_ column: Int, _ row: Int, _ value: Bool, function: Bool = true) {
        dark[row * size + column] = value
        if function { isFunction[row * size + column] = true }
    }

    mutating func drawFunctionPatterns() {
        for index in 0..<size {
            set(6, index, index % 2 == 0)
            set(index, 6, index % 2 == 0)
        }
        drawFinder(3, 3)
        drawFinder(size - 4, 3)
        drawFinder(3, size - 4)
        let positions = QRCode.alignment[version - 1]
        for (i, row) in positions.enumerated() {
            for (j, column) in positions.enumerated() {
                let last = positions.count - 1
                // Not over the three finders.
                if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                drawAlignment(column, row)
            }
        }
        drawFormat(mask: 0) // reserves the areas; redrawn with the chosen mask
        drawVersion()
    }

    /// A 7×7 finder centred at (column, row) with its light separator.
    mutating func drawFinder(_ column: Int, _ row: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let x = column + dx, y = row + dy
                guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                let distance = max(abs(dx), abs(dy))
                set(x, y, distance != 2 && distance != 4)
            }
        }
    }

    mutating func drawAlignment(_ column: Int, _ row: Int) {
        for dy in -2...2 {
            for dx in -2...2 { set(column + dx, row + dy, max(abs(dx), abs(dy)) != 1) }
        }
    }

    /// Level M (bits 00) and the mask, BCH(15,5) protected and XORed with 0x5412, in both copies.
    mutating func drawFormat(mask: Int) {
        let data = mask // level M is 00
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }
        for index in 0...5 { set(8, index, bit(index)) }
        set(8, 7, bit(6))
        set(8, 8, bit(7))
        set(7, 8, bit(8))
        for index in 9..<15 { set(14 - index, 8, bit(index)) }
        for index in 0..<8 { set(size - 1 - index, 8, bit(index)) }
        for index in 8..<15 { set(8, size - 15 + index, bit(index)) }
        set(8, size - 8, true) // the dark module
    }

    /// Versions 7 and up: the version number, BCH(18,6) protected, in two 6×3 blocks.
    mutating func drawVersion() {
        guard version >= 7 else { return }
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        let bits = version << 12 | remainder
        for index in 0..<18 {
            let value = (bits >> index) & 1 == 1
            let a = size - 11 + index % 3, b = index / 3
            set(a, b, value)
            set(b, a, value)
        }
    }

    /// Data and EC codewords in the zigzag order: column pairs from the right, skipping the
    /// vertical timing column, alternately upwards and downwards.
    mutating func place(_ codewords: [UInt8]) {
        var index = 0
        let total = codewords.count * 8
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for offset in 0..<2 {
                    let column = right - offset
                    let upward = (right + 1) & 2 == 0
                    let row = upward ? size - 1 - vertical : vertical
                    guard !isFunction[row * size + column], index < total else { continue }
                    set(column, row, (codewords[index >> 3] >> (7 - (index & 7))) & 1 == 1, function: false)
                    index += 1
                }
            }
            right -= 2
        }
    }

    mutating func apply(mask: Int) {
        for row in 0..<size {
            for column in 0..<size where !isFunction[row * size + column] {
                let flip: Bool
                switch mask {
                case 0: flip = (row + column) % 2 == 0
                case 1: flip = row % 2 == 0
                case 2: flip = column % 3 == 0
                case 3: flip = (row + column) % 3 == 0
                case 4: flip = (row / 2 + column / 3) % 2 == 0
                case 5: flip = (row * column) % 2 + (row * column) % 3 == 0
                case 6: flip = ((row * column) % 2 + (row * column) % 3) % 2 == 0
                default: flip = ((row + column) % 2 + (row * column) % 3) % 2 == 0
                }
                if flip { dark[row * size + column].toggle() }
            }
        }
    }

    /// The four penalty rules of the standard (runs, 2×2 blocks, finder-like patterns,
    /// dark balance); the mask with the lowest total is used.
    func penalty() -> Int {
        var total = 0
        let finderLike: [[Bool]] = [
            [true, false, true, true, true, false, true, false, false, false, false],
            [false, false, false, false, true, false, true, true, true, false, true],
        ]
        for horizontal in [true, false] {
            for line in 0..<size {
                let values = (0..<size).map { horizontal ? dark[line * size + $0] : dark[$0 * size + line] }
                var run = 1
                for index in 1..<size {
                    if values[index] == values[index - 1] {
                        run += 1
                    } else {
                        if run >= 5 { total += run - 2 }
                        run = 1
                    }
                }
                if run >= 5 { total += run - 2 }
                for start in 0...(size - 11) {
                    for pattern in finderLike where Array(values[start..<start + 11]) == pattern { total += 40 }
                }
            }
        }
        for row in 0..<(size - 1) {
            for column in 0..<(size - 1) {
                let value = dark[row * size + column]
                if value == dark[row * size + column + 1], value == dark[(row + 1) * size + column],
                   value == dark[(row + 1) * size + column + 1] { total += 3 }
            }
        }
        let darkCount = dark.filter { $0 }.count
        let cells = size * size
        total += 10 * (abs(darkCount * 20 - cells * 10) / cells)
        return total
    }
}
