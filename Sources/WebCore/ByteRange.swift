/// HTTP range requests for streaming (RFC 9110 §14): `bytes=a-b`, `a-` and `-n`, validated
/// against the representation length before any I/O. Only single ranges are served; a list
/// of ranges is answered with the first satisfiable one (players never ask for several).
public struct ByteRange: Equatable, Sendable {
    /// First byte (inclusive).
    public let start: Int64
    /// Last byte (inclusive).
    public let end: Int64

    /// The number of bytes.
    public var length: Int64 { end - start + 1 }

    /// `Content-Range` for a 206 answer.
    public func contentRange(total: Int64) -> String { "bytes \(start)-\(end)/\(total)" }

    /// What a `Range` header asks for.
    public enum Request: Equatable, Sendable {
        /// No (usable) Range header: send the whole representation with 200.
        case whole
        /// Send this part with 206.
        case partial(ByteRange)
        /// 416 with `Content-Range: bytes */<total>`.
        case unsatisfiable
    }

    /// Interprets a `Range` header for a representation of `total` bytes. Syntactically
    /// invalid headers are ignored (200), as RFC 9110 requires; valid but unsatisfiable ones
    /// give 416.
    public static func parse(_ header: String?, total: Int64) -> Request {
        guard let header, header.utf8.count <= 1024 else { return .whole }
        let trimmed = header.trimmingSpacesAndTabs()
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .whole }
        let specs = trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false)
        var sawValid = false
        for spec in specs.prefix(16) {
            let part = Substring(spec).trimmingSpaces()
            guard let dash = part.firstIndex(of: "-") else { return .whole }
            let first = part[..<dash]
            let last = part[part.index(after: dash)...]
            if first.isEmpty {
                // Suffix: the last n bytes.
                guard let suffix = digits(last), suffix > 0 else {
                    if digits(last) == 0 { sawValid = true; continue }
                    return .whole
                }
                sawValid = true
                guard total > 0 else { continue }
                return .partial(ByteRange(start: max(0, total - suffix), end: total - 1))
            }
            guard let start = digits(first) else { return .whole }
            var end = total - 1
            if !last.isEmpty {
                guard let value = digits(last), value >= start else { return .whole }
                end = min(value, total - 1)
            }
            sawValid = true
            if start < total { return .partial(ByteRange(start: start, end: end)) }
        }
        return sawValid ? .unsatisfiable : .whole
    }

    static func digits<S: StringProtocol>(_ text: S) -> Int64? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int64(text)
    }
}

extension String {
    func trimmingSpacesAndTabs() -> String { Substring(self).trimmingSpaces() }
}
