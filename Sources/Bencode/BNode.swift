/// A decoded bencode value with the byte range it occupied in the input, so callers can hash
/// the raw bytes of a sub-value (the info-hash is SHA-1 of the raw `info` dictionary, never of
/// a re-encoding).
public struct BNode: Sendable, Equatable {
    /// The value.
    public enum Kind: Sendable, Equatable {
        case integer(Int64)
        case bytes([UInt8])
        case list([BNode])
        /// Entries in the (strictly ascending, unique) key order of the input.
        case dictionary([(key: [UInt8], value: BNode)])

        public static func == (lhs: Kind, rhs: Kind) -> Bool {
            switch (lhs, rhs) {
            case let (.integer(a), .integer(b)): return a == b
            case let (.bytes(a), .bytes(b)): return a == b
            case let (.list(a), .list(b)): return a == b
            case let (.dictionary(a), .dictionary(b)):
                return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
            default: return false
            }
        }
    }

    public var kind: Kind
    /// Byte offsets of this value in the decoded input.
    public var range: Range<Int>

    public init(_ kind: Kind, range: Range<Int>) {
        self.kind = kind
        self.range = range
    }

    /// The integer, if this is one.
    public var integer: Int64? { if case let .integer(v) = kind { return v } else { return nil } }
    /// The byte string, if this is one.
    public var bytes: [UInt8]? { if case let .bytes(v) = kind { return v } else { return nil } }
    /// The byte string as UTF-8 text, if it is valid UTF-8.
    public var string: String? { bytes.flatMap { String(validating: $0, as: UTF8.self) } }
    /// The list, if this is one.
    public var list: [BNode]? { if case let .list(v) = kind { return v } else { return nil } }
    /// The dictionary entries, if this is one.
    public var dictionary: [(key: [UInt8], value: BNode)]? { if case let .dictionary(v) = kind { return v } else { return nil } }

    /// The value of `key` in a dictionary.
    public subscript(key: String) -> BNode? {
        guard case let .dictionary(entries) = kind else { return nil }
        let wanted = Array(key.utf8)
        for index in entries.indices where entries[index].key == wanted {
            return entries[index].value
        }
        return nil
    }
}
