import Domain
import Foundation
import Persistence
import WebCore

/// Who may call a route.
enum Access {
    /// Anyone.
    case open
    /// Any signed-in user (guests included).
    case signedIn
    /// Signed-in users that may change things (admin, user; not guest).
    case member
    /// Admins.
    case admin
}

/// Registers routes with the reference's per-route rate limit and guard, in the order the
/// reference gives (rate limit first unless `guardFirst`). Limits are per client IP, method
/// and route pattern (the original shared one limiter across methods; contract fix).
struct RouteBuilder {
    var router = Router()
    let environment: APIEnvironment

    mutating func on(_ method: String, _ pattern: String, limit: Double?, access: Access, guardFirst: Bool = false,
                     _ handler: @escaping @Sendable (Request) throws -> Response) {
        let environment = environment
        router.on(method, pattern) { request in
            if guardFirst { try Self.check(access, request) }
            if let limit { try Self.limit(request, method: method, pattern: pattern, limit: limit, environment: environment) }
            if !guardFirst { try Self.check(access, request) }
            return try handler(request)
        }
    }

    static func check(_ access: Access, _ request: Request) throws {
        switch access {
        case .open:
            return
        case .signedIn:
            guard request.identity != nil else { throw APIError.unauthorized(detail: "Authentication required") }
        case .member:
            guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
            guard identity.role == Role.admin.rawValue || identity.role == Role.user.rawValue else { throw APIError.forbidden }
        case .admin:
            guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
            guard identity.role == Role.admin.rawValue else { throw APIError.forbidden }
        }
    }

    static func limit(_ request: Request, method: String, pattern: String, limit: Double, environment: APIEnvironment) throws {
        let forced = request.headers["X-Force-RateLimit"]?.lowercased() == "true"
        if environment.auth.rateLimitTestMode && !forced { return }
        let key = "\(request.clientIP) \(method) \(pattern)"
        guard case let .deny(retryAfterMillis) = environment.rateLimits.check(key: key, limit: limit, now: environment.clock.monotonicMillis()) else {
            return
        }
        environment.audit?.record(AuditEvent(
            kind: .rateLimitExceeded, severity: .warning, description: "Rate limit of \(Self.format(limit)) exceeded",
            ipAddress: request.clientIP, userAgent: request.headers["User-Agent"],
            metadata: ["ip": .string(request.clientIP), "limit": .string(Self.format(limit)), "path": .string(request.path),
                       "routePath": .string(pattern), "method": .string(method)],
            createdAt: environment.clock.now()))
        throw APIError.rateLimited(retryAfterSeconds: Int((Double(retryAfterMillis) / 1000).rounded(.up)))
    }

    static func format(_ limit: Double) -> String {
        limit == limit.rounded() ? String(Int(limit)) : String(limit)
    }
}

/// JSON request bodies: `application/json` required (415 otherwise), malformed → 400,
/// wrong shape → 400 validation, unknown fields ignored.
enum Body {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) throws -> T {
        let contentType = request.headers["Content-Type"]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") || (contentType.isEmpty && request.body.isEmpty) else {
            throw APIError.handler(status: 415, message: "Content-Type must be application/json")
        }
        return try JSON.decodeBody(T.self, from: request.body.isEmpty ? Array("{}".utf8) : request.body)
    }
}

/// Field validation producing the contract's 400 body.
struct Validator {
    var issues: [ValidationIssue] = []

    mutating func email(_ value: String, field: String = "email") {
        if !EmailAddress.isValid(value) {
            issues.append(ValidationIssue(path: [field], code: "invalid_format", message: "Invalid email address"))
        }
    }

    mutating func nonEmpty(_ value: String, field: String) {
        if value.isEmpty { issues.append(ValidationIssue(path: [field], code: "too_small", message: "Required")) }
    }

    mutating func password(_ value: String, email: String, field: String = "password") {
        if let problem = PasswordPolicy.violation(password: value, email: email) {
            issues.append(ValidationIssue(path: [field], code: "too_small", message: problem))
        }
    }

    mutating func role(_ value: String?, field: String = "role") -> Role? {
        guard let value else { return nil }
        guard let role = Role(rawValue: value) else {
            issues.append(ValidationIssue(path: [field], code: "invalid_value", message: "Role must be admin, user or guest"))
            return nil
        }
        return role
    }

    func finish() throws {
        if !issues.isEmpty { throw APIError.validation(issues) }
    }
}
