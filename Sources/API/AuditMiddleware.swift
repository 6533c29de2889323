import Domain
import Persistence
import WebCore

/// Writes the request-level audit events (reference §5): `API_ACCESS` for every `/api`
/// request except the health check, `UNAUTHORIZED_ACCESS` for 401/403 from guards, and
/// `API_ERROR` for 500s. Rows are queued (see `AuditWriter`), so the request does not wait.
struct AuditMiddleware: Middleware {
    let audit: AuditWriter
    let clock: APIClock
    let policy: AuditAccessPolicy

    static let redacted: Set<String> = ["cookie", "authorization", "x-reverse-proxy-secret"]

    func respond(to request: Request, next: any Responder) throws -> Response {
        let response = try next.respond(to: request)
        let isWrite = !["GET", "HEAD", "OPTIONS"].contains(request.method)
        let logAccess: Bool
        switch policy {
        case .all: logAccess = request.path != "/api/health"
        case .writes: logAccess = isWrite || response.status >= 400
        case .none: logAccess = false
        }
        guard logAccess || response.status == 401 || response.status == 403 || response.status >= 500 else { return response }
        let now = clock.now()
        let context = Self.context(of: request)
        if logAccess {
            audit.record(AuditEvent(kind: .apiAccess, severity: .info, description: "\(request.method) \(request.path)",
                                    ipAddress: request.clientIP, userAgent: request.headers["User-Agent"],
                                    metadata: context.merging(["path": .string(request.path)]) { $1 }, createdAt: now))
        }
        if response.status == 401 || response.status == 403, response.headers["X-Audit-Reason"] == nil,
           request.routePattern != nil {
            let detail = response.status == 403 ? "Insufficient permissions" : "Authentication required"
            audit.record(AuditEvent(kind: .unauthorizedAccess, severity: .warning, description: detail,
                                    userEmail: request.identity?.email, ipAddress: request.clientIP,
                                    userAgent: request.headers["User-Agent"], metadata: context, createdAt: now))
        }
        if response.status >= 500 {
            audit.record(AuditEvent(kind: .apiError, severity: .error, description: "API Error: \(response.status)",
                                    userEmail: request.identity?.email, ipAddress: request.clientIP,
                                    userAgent: request.headers["User-Agent"],
                                    metadata: context.merging(["path": .string(request.path)]) { $1 }, createdAt: now))
        }
        var cleaned = response
        if cleaned.headers.contains("X-Audit-Reason") { cleaned.headers.remove("X-Audit-Reason") }
        return cleaned
    }

    /// `method`, `query` and `headers` (credentials redacted) of a request.
    static func context(of request: Request) -> [String: AuditValue] {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.lowercased()
            headers[name] = redacted.contains(name) ? "REDACTED" : String(field.value.prefix(500))
        }
        return ["method": .string(request.method), "query": .map(request.query), "headers": .map(headers)]
    }
}
