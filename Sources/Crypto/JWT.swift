import Foundation

/// The claims of a Miauflix access token (contract: HS256, iss `miauflix-api`, aud
/// `miauflix-client`).
public struct AccessClaims: Codable, Equatable, Sendable {
    /// The user's id.
    public var userId: String
    /// The user's e-mail.
    public var email: String
    /// `admin`, `user` or `guest`.
    public var role: String
    /// Issued at (seconds since 1970).
    public var iat: Int
    /// Expires at (seconds since 1970).
    public var exp: Int
    /// Issuer.
    public var iss: String
    /// Audience.
    public var aud: String

    /// Creates claims.
    public init(userId: String, email: String, role: String, iat: Int, exp: Int,
                iss: String = HS256JWT.issuer, aud: String = HS256JWT.audience) {
        self.userId = userId
        self.email = email
        self.role = role
        self.iat = iat
        self.exp = exp
        self.iss = iss
        self.aud = aud
    }
}

/// Why a token was refused. The request is then simply anonymous.
public enum JWTError: Error, Equatable, Sendable {
    /// Not three base64url segments of JSON, or too long.
    case malformed
    /// `alg` is not exactly `HS256` (this includes `none`), or `crit` is present.
    case algorithm
    /// The signature does not verify under our key.
    case signature
    /// `exp` is not in the future.
    case expired
    /// `nbf` is in the future.
    case notYetValid
    /// `iss` or `aud` is not ours.
    case claims
}

/// HS256 JSON Web Tokens with the algorithm pinned (RFC 7519/7515 subset).
///
/// The key is the UTF-8 bytes of `JWT_SECRET` (the original's choice, kept for
/// compatibility). Verification order: shape and size, header (`alg` must be `HS256`),
/// signature (constant-time), then claims with no clock tolerance.
public struct HS256JWT: Sendable {
    /// The issuer we sign and require.
    public static let issuer = "miauflix-api"
    /// The audience we sign and require.
    public static let audience = "miauflix-client"
    /// Longest token accepted, in bytes.
    public static let maximumLength = 4096

    let key: [UInt8]

    /// Creates a signer/verifier.
    public init(secret: String) { key = Array(secret.utf8) }

    /// Signs `claims`.
    public func sign(_ claims: AccessClaims) -> String {
        let header = Encoding.base64URL(Array(#"{"alg":"HS256"}"#.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = Encoding.base64URL(Array((try? encoder.encode(claims)) ?? Data()))
        let signingInput = header + "." + payload
        return signingInput + "." + Encoding.base64URL(Digest.hmacSHA256(key: key, data: Array(signingInput.utf8)))
    }

    /// Verifies `token` at time `now` (seconds since 1970) and returns its claims.
    public func verify(_ token: String, now: Int) throws(JWTError) -> AccessClaims {
        guard token.utf8.count <= Self.maximumLength else { throw .malformed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { throw .malformed }
        guard let headerBytes = Self.base64URLDecode(parts[0]),
              let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            throw .malformed
        }
        guard header.alg == "HS256", header.crit == nil else { throw .algorithm }
        if let typ = header.typ, typ.uppercased() != "JWT" { throw .malformed }
        guard let signature = Self.base64URLDecode(parts[2]), signature.count == 32 else { throw .signature }
        let expected = Digest.hmacSHA256(key: key, data: Array("\(parts[0]).\(parts[1])".utf8))
        var difference: UInt8 = 0
        for i in 0..<32 { difference |= expected[i] ^ signature[i] }
        guard difference == 0 else { throw .signature }

        guard let payloadBytes = Self.base64URLDecode(parts[1]) else { throw .malformed }
        guard let payload = try? JSONDecoder().decode(Payload.self, from: Data(payloadBytes)),
              let expValue = payload.exp, expValue.isFinite, abs(expValue) < 1e15 else { throw .claims }
        let exp = Int(expValue.rounded(.down))
        guard exp > now else { throw .expired }
        if let nbf = payload.nbf {
            guard nbf.isFinite, abs(nbf) < 1e15 else { throw .claims }
            guard Int(nbf.rounded(.down)) <= now else { throw .notYetValid }
        }
        guard payload.iss == Self.issuer, payload.aud?.contains(Self.audience) == true else { throw .claims }
        guard let userId = payload.userId, !userId.isEmpty, let email = payload.email, !email.isEmpty,
              let role = payload.role, !role.isEmpty else { throw .claims }
        let iat = payload.iat.flatMap { $0.isFinite && abs($0) < 1e15 ? Int($0) : nil } ?? 0
        return AccessClaims(userId: userId, email: email, role: role, iat: iat, exp: exp)
    }

    /// The JOSE header fields we look at (`crit` only needs to be present to be refused).
    struct Header: Decodable {
        var alg: String?
        var typ: String?
        var crit: JSONAny?
    }

    /// Any JSON value (presence check only).
    struct JSONAny: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    /// The payload as received: unknown claims are ignored, wrong types fail decoding.
    struct Payload: Decodable {
        var userId: String?
        var email: String?
        var role: String?
        var iat: Double?
        var exp: Double?
        var nbf: Double?
        var iss: String?
        var aud: Audience?
    }

    /// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
    struct Audience: Decodable {
        var values: [String]
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let single = try? container.decode(String.self) { values = [single] } else { values = try container.decode([String].self) }
        }
        func contains(_ value: String) -> Bool { values.contains(value) }
    }

    /// Strict base64url without padding, decoded directly (no intermediate strings).
    static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case 65...90: value = UInt32(byte - 65)
            case 97...122: value = UInt32(byte - 71)
            case 48...57: value = UInt32(byte + 4)
            case 45: value = 62
            case 95: value = 63
            default: return nil
            }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // A lone 6-bit tail (length ≡ 1 mod 4) or non-zero padding bits are not canonical.
        guard bits < 6, accumulator == 0 else { return nil }
        return output
    }
}
