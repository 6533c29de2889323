/// The password rules: at least 10 characters, at most 1024 bytes, not the e-mail itself.
public enum PasswordPolicy {
    /// The minimum length in characters.
    public static let minimumLength = 10
    /// The maximum length in bytes (bounds hashing work).
    public static let maximumBytes = 1024

    /// A message explaining why `password` is refused, or nil when it is acceptable.
    public static func violation(password: String, email: String) -> String? {
        if password.count < minimumLength { return "Password must be at least \(minimumLength) characters long" }
        if password.utf8.count > maximumBytes { return "Password must be at most \(maximumBytes) bytes long" }
        if password.lowercased() == email.lowercased() { return "Password must not be the e-mail address" }
        return nil
    }

    /// A random 24-character password with at least one lower-case letter, upper-case letter,
    /// digit and special character (the original's first-admin password alphabet).
    /// `pick(n)` must return a uniformly random index below `n`.
    public static func generate(pick: (Int) -> Int) -> String {
        let lower = Array("abcdefghijklmnopqrstuvwxyz")
        let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let digits = Array("0123456789")
        let special = Array("!@#$%^&*()_+-=[]{}|;:,.<>?")
        let all = lower + upper + digits + special
        var chars = [lower[pick(lower.count)], upper[pick(upper.count)], digits[pick(digits.count)], special[pick(special.count)]]
        while chars.count < 24 { chars.append(all[pick(all.count)]) }
        for i in stride(from: chars.count - 1, to: 0, by: -1) { chars.swapAt(i, pick(i + 1)) }
        return String(chars)
    }
}
