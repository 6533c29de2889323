import Foundation

/// An audit-log entry (reference §5, with our additions).
public struct AuditEvent: Sendable, Equatable {
    /// Event types. The first block is the original's; LOGOUT, ROLE_CHANGE, USER_DELETION,
    /// PASSWORD_CHANGE, USER_UPDATE and CONFIGURATION_CHANGE are written by us where the
    /// original never did.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case apiAccess = "API_ACCESS"
        case login = "LOGIN"
        case loginFailure = "LOGIN_FAILURE"
        case logout = "LOGOUT"
        case tokenRefresh = "TOKEN_REFRESH"
        case tokenInvalidation = "TOKEN_INVALIDATION"
        case unauthorizedAccess = "UNAUTHORIZED_ACCESS"
        case userCreation = "USER_CREATION"
        case userUpdate = "USER_UPDATE"
        case userDeletion = "USER_DELETION"
        case roleChange = "ROLE_CHANGE"
        case passwordChange = "PASSWORD_CHANGE"
        case passwordResetComplete = "PASSWORD_RESET_COMPLETE"
        case suspiciousActivity = "SUSPICIOUS_ACTIVITY"
        case rateLimitExceeded = "RATE_LIMIT_EXCEEDED"
        case apiError = "API_ERROR"
        case configurationChange = "CONFIGURATION_CHANGE"
        case securitySettingChange = "SECURITY_SETTING_CHANGE"
        case deviceAuthorization = "DEVICE_AUTHORIZATION"
        case vpnDown = "VPN_DOWN"
        case vpnUp = "VPN_UP"
    }

    /// Severities.
    public enum Severity: String, Sendable, Codable, CaseIterable {
        case info = "INFO"
        case warning = "WARNING"
        case error = "ERROR"
        case critical = "CRITICAL"
    }

    /// The type.
    public var kind: Kind
    /// The severity.
    public var severity: Severity
    /// A human-readable description (≤ 500 characters).
    public var description: String
    /// The e-mail concerned, if any.
    public var userEmail: String?
    /// The client IP or `unknown`.
    public var ipAddress: String
    /// The client's User-Agent.
    public var userAgent: String?
    /// Event details (never secrets).
    public var metadata: [String: AuditValue]
    /// When it happened.
    public var createdAt: Date

    /// Creates an event.
    public init(kind: Kind, severity: Severity, description: String, userEmail: String? = nil, ipAddress: String = "unknown",
                userAgent: String? = nil, metadata: [String: AuditValue] = [:], createdAt: Date) {
        self.kind = kind
        self.severity = severity
        self.description = String(description.prefix(500))
        self.userEmail = userEmail
        self.ipAddress = ipAddress
        self.userAgent = userAgent.map { String($0.prefix(500)) }
        self.metadata = metadata
        self.createdAt = createdAt
    }
}

/// A metadata value of an audit event: text, a number or a flat map (request headers).
public enum AuditValue: Sendable, Equatable, Encodable, ExpressibleByStringLiteral {
    case string(String)
    case int(Int)
    case map([String: String])

    public init(stringLiteral value: String) { self = .string(value) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .string(value): try container.encode(value)
        case let .int(value): try container.encode(value)
        case let .map(value): try container.encode(value)
        }
    }
}

extension AuditValue {
    /// Serialises metadata as a JSON object with sorted keys. Hand-written because the audit
    /// writer runs it for every request's row, where JSONEncoder was the largest cost.
    public static func json(_ metadata: [String: AuditValue]) -> String {
        var out = "{"
        var first = true
        for key in metadata.keys.sorted() {
            if !first { out += "," }
            first = false
            appendString(key, to: &out)
            out += ":"
            switch metadata[key]! {
            case let .string(value): appendString(value, to: &out)
            case let .int(value): out += String(value)
            case let .map(map):
                out += "{"
                var firstEntry = true
                for entryKey in map.keys.sorted() {
                    if !firstEntry { out += "," }
                    firstEntry = false
                    appendString(entryKey, to: &out)
                    out += ":"
                    appendString(map[entryKey]!, to: &out)
                }
                out += "}"
            }
        }
        return out + "}"
    }

    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
