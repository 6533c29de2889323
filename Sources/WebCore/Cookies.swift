/// Cookie header parsing and `Set-Cookie` rendering (RFC 6265).
public enum Cookies {
    /// Parses one or more `Cookie` header values into a dictionary; the first occurrence of a
    /// name wins. Pairs without `=` are ignored.
    public static func parse(_ headerValues: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for header in headerValues {
            for pair in header.split(separator: ";") {
                guard let eq = pair.firstIndex(of: "=") else { continue }
                let name = pair[..<eq].trimmingSpaces()
                var value = pair[pair.index(after: eq)...].trimmingSpaces()
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                    value = String(value.dropFirst().dropLast())
                }
                if !name.isEmpty, result[name] == nil { result[name] = value }
            }
        }
        return result
    }
}

/// A `Set-Cookie` value with the attributes the contract uses, rendered in a fixed order:
/// `name=value; Max-Age=…; Domain=…; Path=…; HttpOnly; Secure; SameSite=…`.
public struct SetCookie: Sendable, Equatable {
    /// Cookie name.
    public var name: String
    /// Cookie value (empty for deletions).
    public var value: String
    /// `Max-Age` in seconds (0 deletes the cookie).
    public var maxAge: Int?
    /// `Domain`, when configured.
    public var domain: String?
    /// `Path`.
    public var path: String
    /// `HttpOnly`.
    public var httpOnly: Bool
    /// `Secure`.
    public var secure: Bool
    /// `SameSite` (`Strict`, `Lax`, `None`).
    public var sameSite: String?

    /// Creates a cookie.
    public init(name: String, value: String, maxAge: Int? = nil, domain: String? = nil, path: String = "/",
                httpOnly: Bool = true, secure: Bool = false, sameSite: String? = "Strict") {
        self.name = name
        self.value = value
        self.maxAge = maxAge
        self.domain = domain
        self.path = path
        self.httpOnly = httpOnly
        self.secure = secure
        self.sameSite = sameSite
    }

    /// The header value.
    public var headerValue: String {
        var parts = ["\(name)=\(value)"]
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if let domain, !domain.isEmpty { parts.append("Domain=\(domain)") }
        parts.append("Path=\(path)")
        if httpOnly { parts.append("HttpOnly") }
        if secure { parts.append("Secure") }
        if let sameSite { parts.append("SameSite=\(sameSite)") }
        return parts.joined(separator: "; ")
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let first = s.first, first == " " || first == "\t" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
