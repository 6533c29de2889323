import COpenSSL

/// SHA-1/SHA-256 digests and HMAC-SHA256 over OpenSSL's EVP interface.
public enum Digest {
    /// SHA-256 of `data` (32 bytes).
    public static func sha256(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha256(), 32) }

    /// SHA-1 of `data` (20 bytes). Only for BitTorrent info-hashes, never for security.
    public static func sha1(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha1(), 20) }

    /// HMAC-SHA256 of `data` under `key` (32 bytes).
    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        let result = key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { o in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), d.baseAddress, d.count, o.baseAddress, &length)
                }
            }
        }
        precondition(result != nil && length == 32, "HMAC failed")
        return out
    }

    private static func digest(_ data: [UInt8], _ md: OpaquePointer?, _ size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        let ok = data.withUnsafeBufferPointer { d in
            out.withUnsafeMutableBufferPointer { o in
                EVP_Digest(d.baseAddress, d.count, o.baseAddress, &length, md, nil)
            }
        }
        precondition(ok == 1 && Int(length) == size, "EVP_Digest failed")
        return out
    }
}

extension Digest {
    /// Whether two byte strings are equal, in time that depends only on their lengths
    /// (compares HMACs of both, so secrets of different lengths leak nothing either).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let key = SecureRandom.bytes(32)
        let left = hmacSHA256(key: key, data: a)
        let right = hmacSHA256(key: key, data: b)
        var difference: UInt8 = 0
        for i in 0..<left.count { difference |= left[i] ^ right[i] }
        return difference == 0
    }
}
