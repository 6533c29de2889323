/// Why bytes are not valid bencode, with the offset and the dictionary key path.
public struct BencodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case unexpectedEnd = "unexpected end of input"
        case invalidInteger = "invalid integer"
        case nonCanonicalInteger = "integer is not canonical (leading zero or -0)"
        case integerOverflow = "integer out of range"
        case invalidLength = "invalid string length"
        case lengthTooLarge = "string longer than allowed"
        case unsortedKeys = "dictionary keys not sorted and unique"
        case keyNotString = "dictionary key is not a string"
        case tooDeep = "nesting deeper than allowed"
        case tooManyItems = "more items than allowed"
        case unexpectedByte = "unexpected byte"
        case trailingData = "trailing data after the value"
    }

    public var reason: Reason
    public var offset: Int
    public var path: [String]

    public var description: String {
        "bencode: \(reason.rawValue) at offset \(offset)" + (path.isEmpty ? "" : " (in \(path.joined(separator: ".")))")
    }
}

/// Strict bencode decoding (BEP 3): canonical integers, strictly ascending unique keys, no
/// trailing data, and limits checked before anything is allocated.
public struct BencodeDecoder: Sendable {
    /// Deepest nesting accepted.
    public var maxDepth = 64
    /// Longest single byte string accepted.
    public var maxStringLength = 32 << 20
    /// Most list/dictionary items in the whole document.
    public var maxItems = 1 << 20

    public init() {}

    /// Decodes exactly one value spanning all of `input`.
    public func decode(_ input: [UInt8]) throws(BencodeError) -> BNode {
        var state = State(input: input, decoder: self)
        let node = try state.value(depth: 0)
        guard state.position == input.count else { throw state.error(.trailingData) }
        return node
    }

    /// Decodes one value at the start of `input` and returns it with the number of bytes used
    /// (for a dictionary followed by other data, as in BEP 9 metadata messages).
    public func decodePrefix(_ input: [UInt8]) throws(BencodeError) -> (BNode, Int) {
        var state = State(input: input, decoder: self)
        let node = try state.value(depth: 0)
        return (node, state.position)
    }

    struct State {
        let input: [UInt8]
        let decoder: BencodeDecoder
        var position = 0
        var items = 0
        var path: [String] = []

        init(input: [UInt8], decoder: BencodeDecoder) {
            self.input = input
            self.decoder = decoder
        }

        func error(_ reason: BencodeError.Reason) -> BencodeError {
            BencodeError(reason: reason, offset: position, path: path)
        }

        mutating func value(depth: Int) throws(BencodeError) -> BNode {
            guard depth <= decoder.maxDepth else { throw error(.tooDeep) }
            guard position < input.count else { throw error(.unexpectedEnd) }
            let start = position
            switch input[position] {
            case UInt8(ascii: "i"):
                position += 1
                let value = try integer(until: UInt8(ascii: "e"))
                return BNode(.integer(value), range: start..<position)
            case UInt8(ascii: "l"):
                position += 1
                var elements: [BNode] = []
                while true {
                    guard position < input.count else { throw error(.unexpectedEnd) }
                    if input[position] == UInt8(ascii: "e") { position += 1; break }
                    items += 1
                    guard items <= decoder.maxItems else { throw error(.tooManyItems) }
                    path.append("[\(elements.count)]")
                    elements.append(try value(depth: depth + 1))
                    path.removeLast()
                }
                return BNode(.list(elements), range: start..<position)
            case UInt8(ascii: "d"):
                position += 1
                var entries: [(key: [UInt8], value: BNode)] = []
                while true {
                    guard position < input.count else { throw error(.unexpectedEnd) }
                    if input[position] == UInt8(ascii: "e") { position += 1; break }
                    guard input[position] >= UInt8(ascii: "0") && input[position] <= UInt8(ascii: "9") else { throw error(.keyNotString) }
                    let key = try byteString()
                    if let last = entries.last?.key, !last.lexicographicallyPrecedes(key) { throw error(.unsortedKeys) }
                    items += 1
                    guard items <= decoder.maxItems else { throw error(.tooManyItems) }
                    path.append(String(decoding: key.prefix(64), as: UTF8.self))
                    let child = try value(depth: depth + 1)
                    path.removeLast()
                    entries.append((key, child))
                }
                return BNode(.dictionary(entries), range: start..<position)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let bytes = try byteString()
                return BNode(.bytes(bytes), range: start..<position)
            default:
                throw error(.unexpectedByte)
            }
        }

        /// `<length>:<bytes>`; the length is checked against the input before allocating.
        mutating func byteString() throws(BencodeError) -> [UInt8] {
            var length = 0
            let first = position
            while true {
                guard position < input.count else { throw error(.unexpectedEnd) }
                let byte = input[position]
                if byte == UInt8(ascii: ":") { break }
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw error(.invalidLength) }
                guard position - first < 10 else { throw error(.lengthTooLarge) }
                length = length * 10 + Int(byte - UInt8(ascii: "0"))
                position += 1
            }
            guard position > first else { throw error(.invalidLength) }
            guard !(input[first] == UInt8(ascii: "0") && position - first > 1) else { throw error(.invalidLength) }
            position += 1
            guard length <= decoder.maxStringLength else { throw error(.lengthTooLarge) }
            guard length <= input.count - position else { throw error(.unexpectedEnd) }
            let bytes = Array(input[position..<(position + length)])
            position += length
            return bytes
        }

        mutating func integer(until terminator: UInt8) throws(BencodeError) -> Int64 {
            let first = position
            var negative = false
            if position < input.count && input[position] == UInt8(ascii: "-") { negative = true; position += 1 }
            let digitsStart = position
            var value: Int64 = 0
            while true {
                guard position < input.count else { throw error(.unexpectedEnd) }
                let byte = input[position]
                if byte == terminator { break }
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw error(.invalidInteger) }
                let digit = Int64(byte - UInt8(ascii: "0"))
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                guard !overflow1 && !overflow2 else { throw error(.integerOverflow) }
                value = sum
                position += 1
            }
            let digits = position - digitsStart
            guard digits > 0 else { position = first; throw error(.invalidInteger) }
            if input[digitsStart] == UInt8(ascii: "0") && (digits > 1 || negative) { throw error(.nonCanonicalInteger) }
            position += 1
            return value
        }
    }
}
