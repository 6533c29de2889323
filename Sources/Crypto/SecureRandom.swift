import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG (seeded by the kernel).
public enum SecureRandom {
    /// `count` random bytes. Traps if the system cannot provide randomness: continuing with
    /// predictable secrets would be worse than stopping.
    public static func bytes(_ count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return buffer }
        let ok = buffer.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return buffer
    }

    /// A uniformly random index below `upperBound` (rejection sampling, no modulo bias).
    public static func index(below upperBound: Int) -> Int {
        precondition(upperBound > 0 && upperBound <= 256)
        let limit = 256 - (256 % upperBound)
        while true {
            let byte = Int(bytes(1)[0])
            if byte < limit { return byte % upperBound }
        }
    }
}

/// A `RandomNumberGenerator` backed by `SecureRandom`, for code that takes a generator parameter.
public struct SecureRandomGenerator: RandomNumberGenerator, Sendable {
    /// Creates the generator.
    public init() {}

    public mutating func next() -> UInt64 {
        SecureRandom.bytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
