/// A v1 info-hash: exactly 20 bytes (SHA-1 of the raw `info` dictionary).
public struct InfoHash: Hashable, Sendable, CustomStringConvertible {
    /// The 20 bytes.
    public let bytes: [UInt8]

    /// Nil unless `bytes` is 20 bytes long.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
    }

    /// From 40 hex digits (either case).
    public init?(hex: String) {
        let chars = Array(hex.utf8)
        guard chars.count == 40 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(20)
        var i = 0
        while i < 40 {
            guard let h = Self.nibble(chars[i]), let l = Self.nibble(chars[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        bytes = out
    }

    /// From 32 base32 characters (RFC 4648 alphabet, either case), as older magnets use.
    public init?(base32: String) {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
        let chars = Array(base32.uppercased().utf8)
        guard chars.count == 32 else { return nil }
        var out: [UInt8] = []
        var buffer: UInt64 = 0
        var bits = 0
        for char in chars {
            guard let value = alphabet.firstIndex(of: char) else { return nil }
            buffer = buffer << 5 | UInt64(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt64(bits)))
            }
        }
        guard out.count == 20 else { return nil }
        bytes = out
    }

    /// 40 lower-case hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    public var description: String { hex }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
}
