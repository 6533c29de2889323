/// HKDF-SHA256 (RFC 5869), for deriving purpose-specific keys from one master key.
public enum HKDF {
    /// `length` bytes (at most 255 × 32) derived from `key` for `info`.
    public static func sha256(key: [UInt8], salt: [UInt8] = [], info: [UInt8], length: Int) -> [UInt8] {
        precondition(length > 0 && length <= 255 * 32)
        let prk = Digest.hmacSHA256(key: salt.isEmpty ? [UInt8](repeating: 0, count: 32) : salt, data: key)
        var output: [UInt8] = []
        var block: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            block = Digest.hmacSHA256(key: prk, data: block + info + [counter])
            output += block
            counter &+= 1
        }
        return Array(output.prefix(length))
    }
}
