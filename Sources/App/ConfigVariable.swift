/// How a configuration value is written and checked.
public enum ConfigKind: Sendable, Equatable {
    /// Free text.
    case string
    /// `true|false|1|0|yes|no`.
    case bool
    /// An integer within a range.
    case int(ClosedRange<Int>)
    /// `<int><s|m|h|d>`.
    case duration
    /// `<int><B|KB|MB|GB|TB>` (binary units).
    case size
    /// An `http(s)://` URL.
    case url
    /// A comma-separated list.
    case list
    /// Base64 that decodes to exactly 32 bytes.
    case key32Base64
    /// A file system path.
    case path
    /// One of a few words.
    case oneOf([String])
}

/// One configuration variable: its name, default, kind and whether it is a secret.
public struct ConfigVariable: Sendable {
    /// The environment variable name.
    public let name: String
    /// The default value (nil: none).
    public let defaultValue: String?
    /// How the value is validated.
    public let kind: ConfigKind
    /// Secrets are never printed.
    public let secret: Bool
    /// Required and asked of the admin (missing → degraded, reported by `config check`).
    public let required: Bool
    /// Generated once and persisted when missing.
    public let auto: AutoSecret?
    /// The service the variable belongs to (status and config views).
    public let service: String
    /// One line for `config check` and the README.
    public let summary: String

    init(_ name: String, _ defaultValue: String?, _ kind: ConfigKind = .string, service: String,
         secret: Bool = false, required: Bool = false, auto: AutoSecret? = nil, _ summary: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.kind = kind
        self.secret = secret
        self.required = required
        self.auto = auto
        self.service = service
        self.summary = summary
    }
}

/// How an auto secret is generated.
public enum AutoSecret: Sendable {
    /// `n` random bytes as hex.
    case hex(bytes: Int)
    /// 32 random bytes as base64.
    case base64Key32
}
