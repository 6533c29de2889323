/// A light syntactic check of an e-mail address: one `@`, a non-empty local part, a domain
/// with a dot or the `.local`/`localhost` forms admins use at home, no spaces, at most 254 bytes.
public enum EmailAddress {
    /// Whether `s` is acceptable as a sign-in e-mail.
    public static func isValid(_ s: String) -> Bool {
        guard s.utf8.count <= 254, !s.contains(where: { $0.isWhitespace }) else { return false }
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64 else { return false }
        let domain = parts[1]
        guard !domain.isEmpty, !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..") else { return false }
        return domain.contains(".") || domain == "localhost"
    }
}
