/// Resolution of the client address used by rate limiting and the audit log
/// (reference §3.9).
///
/// The socket address (`REMOTE_ADDR`, which nginx sets to the TCP peer) is trusted. The
/// left-most `X-Forwarded-For` entry is used only when a reverse-proxy secret of at least 16
/// characters is configured and the request carries it in `X-Reverse-Proxy-Secret`.
public enum ClientIP {
    /// The minimum length of a usable reverse-proxy secret.
    public static let minimumSecretLength = 16

    /// Returns the client address, or `unknown`.
    public static func resolve(remoteAddress: String?, headers: HTTPHeaders, proxySecret: String?) -> String {
        if let secret = proxySecret, secret.utf8.count >= minimumSecretLength,
           let presented = headers["X-Reverse-Proxy-Secret"],
           constantTimeEquals(Array(presented.utf8), Array(secret.utf8)),
           let forwarded = headers["X-Forwarded-For"] {
            let first = forwarded.split(separator: ",", maxSplits: 1).first.map { Substring($0).trimmingSpaces() } ?? ""
            if isPlausibleAddress(first) { return first }
        }
        if let remote = remoteAddress, isPlausibleAddress(remote) { return remote }
        return "unknown"
    }

    /// Whether `s` looks like an IPv4/IPv6 literal (hex digits, dots, colons; at most 45 chars).
    static func isPlausibleAddress(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 45 else { return false }
        return s.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) ||
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f")) ||
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F")) ||
            byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in a.indices { difference |= a[i] ^ b[i] }
    return difference == 0
}
