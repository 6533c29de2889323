import COpenSSL

/// The Diffie-Hellman exchange of BitTorrent's message stream encryption (MSE/PE): the
/// 768-bit prime P of the specification, generator 2, a 160-bit private exponent. Public
/// keys and the shared secret travel as 96-byte big-endian numbers. OpenSSL's BIGNUM does
/// the modular exponentiation (its DH API refuses a 768-bit group).
public final class MSEKeyExchange: @unchecked Sendable {
    static let primeHex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563"
    public static let keyLength = 96

    private let privateKey: [UInt8]
    /// Our public key Y = 2^X mod P, 96 bytes.
    public let publicKey: [UInt8]

    public init(privateKey: [UInt8] = SecureRandom.bytes(20)) {
        self.privateKey = privateKey
        publicKey = Self.power(base: [2], exponent: privateKey)!
    }

    /// S = Y_other^X mod P (96 bytes); nil when the other key is not in 2...P-2 (a peer
    /// sending 0, 1 or P-1 would force a known secret).
    public func sharedSecret(with other: [UInt8]) -> [UInt8]? {
        guard other.count == Self.keyLength else { return nil }
        return Self.power(base: other, exponent: privateKey, checkRange: true)
    }

    private static func power(base: [UInt8], exponent: [UInt8], checkRange: Bool = false) -> [UInt8]? {
        guard let context = BN_CTX_new() else { return nil }
        defer { BN_CTX_free(context) }
        var prime: OpaquePointer? = nil
        guard BN_hex2bn(&prime, primeHex) > 0, let prime else { return nil }
        defer { BN_free(prime) }
        guard let b = BN_bin2bn(base, Int32(base.count), nil), let e = BN_bin2bn(exponent, Int32(exponent.count), nil),
              let result = BN_new() else { return nil }
        defer { BN_free(b); BN_clear_free(e); BN_clear_free(result) }
        if checkRange {
            guard let limit = BN_dup(prime) else { return nil }
            defer { BN_free(limit) }
            BN_sub_word(limit, 1)
            guard BN_cmp(b, BN_value_one()) > 0, BN_cmp(b, limit) < 0 else { return nil }
        }
        guard BN_mod_exp(result, b, e, prime, context) == 1 else { return nil }
        var out = [UInt8](repeating: 0, count: keyLength)
        guard BN_bn2binpad(result, &out, Int32(keyLength)) == Int32(keyLength) else { return nil }
        return out
    }
}
