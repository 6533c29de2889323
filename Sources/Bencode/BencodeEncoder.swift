/// A value to encode. Dictionaries are written with their keys sorted (canonical form).
public indirect enum BValue: Sendable, Equatable {
    case integer(Int64)
    case bytes([UInt8])
    case list([BValue])
    case dictionary([[UInt8]: BValue])
    /// Already-encoded bencode, written as is (e.g. a raw `info` dictionary).
    case raw([UInt8])

    /// A UTF-8 string value.
    public static func string(_ text: String) -> BValue { .bytes(Array(text.utf8)) }

    /// A dictionary with string keys.
    public static func dict(_ entries: [String: BValue]) -> BValue {
        .dictionary(Dictionary(uniqueKeysWithValues: entries.map { (Array($0.key.utf8), $0.value) }))
    }

    /// The canonical encoding.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    func write(into out: inout [UInt8]) {
        switch self {
        case let .integer(value):
            out.append(UInt8(ascii: "i"))
            out.append(contentsOf: String(value).utf8)
            out.append(UInt8(ascii: "e"))
        case let .bytes(bytes):
            out.append(contentsOf: String(bytes.count).utf8)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: bytes)
        case let .list(values):
            out.append(UInt8(ascii: "l"))
            for value in values { value.write(into: &out) }
            out.append(UInt8(ascii: "e"))
        case let .dictionary(entries):
            out.append(UInt8(ascii: "d"))
            for key in entries.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                BValue.bytes(key).write(into: &out)
                entries[key]!.write(into: &out)
            }
            out.append(UInt8(ascii: "e"))
        case let .raw(bytes):
            out.append(contentsOf: bytes)
        }
    }
}

extension BNode {
    /// This node as an encodable value.
    public var value: BValue {
        switch kind {
        case let .integer(v): return .integer(v)
        case let .bytes(v): return .bytes(v)
        case let .list(v): return .list(v.map(\.value))
        case let .dictionary(v): return .dictionary(Dictionary(v.map { ($0.key, $0.value.value) }, uniquingKeysWith: { a, _ in a }))
        }
    }
}
