/// Makes torrent file paths safe to create under the download folder (BEP 3 `path` lists are
/// attacker-controlled). Components that could escape the folder are refused; components
/// that are merely unusable on common file systems are rewritten.
public enum FilePathSanitizer {
    /// Why a path is refused.
    public enum Problem: Error, Equatable, Sendable {
        /// An empty path, or an empty, `.` or `..` component.
        case traversal
        /// A component containing `/`, `\` or NUL.
        case separator
        /// Not valid UTF-8.
        case encoding
    }

    /// The longest component kept, in bytes (most file systems allow 255).
    public static let maximumComponentBytes = 200

    static let reserved: Set<String> = Set(["CON", "PRN", "AUX", "NUL"])
        .union((1...9).map { "COM\($0)" }).union((1...9).map { "LPT\($0)" })

    /// The sanitized components of `path` (raw bytes per component).
    public static func sanitize(_ components: [[UInt8]]) throws(Problem) -> [String] {
        guard !components.isEmpty else { throw .traversal }
        var result: [String] = []
        for raw in components {
            guard !raw.isEmpty else { throw .traversal }
            guard !raw.contains(0), !raw.contains(UInt8(ascii: "/")), !raw.contains(UInt8(ascii: "\\")) else { throw .separator }
            guard var text = String(validating: raw, as: UTF8.self) else { throw .encoding }
            guard text != ".", text != ".." else { throw .traversal }
            // Control characters become "_"; trailing dots/spaces (invalid on Windows) are trimmed.
            text = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "_" : Character($0) })
            while let last = text.last, last == "." || last == " " { text.removeLast() }
            if text.isEmpty { text = "_" }
            let stem = text.split(separator: ".", maxSplits: 1).first.map(String.init)?.uppercased() ?? ""
            if reserved.contains(stem) { text = "_" + text }
            result.append(truncate(text))
        }
        return result
    }

    /// Shortens `text` to `maximumComponentBytes`, keeping a short extension.
    static func truncate(_ text: String) -> String {
        guard text.utf8.count > maximumComponentBytes else { return text }
        var ext = ""
        if let dot = text.lastIndex(of: "."), text.distance(from: dot, to: text.endIndex) <= 10 { ext = String(text[dot...]) }
        var stem = String(text.dropLast(ext.count))
        while stem.utf8.count + ext.utf8.count > maximumComponentBytes { stem.removeLast() }
        return stem + ext
    }
}
