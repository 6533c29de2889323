import Crypto
import Domain
import Foundation
import Persistence
import WebCore

/// `/api/auth/*`: login, refresh, logout, sessions, session, setup (reference §2.3).
struct AuthRoutes {
    let environment: APIEnvironment
    let database: AppDatabase
    let cookies: SessionCookies
    let audit: AuditWriter?
    let sessionAnswers = EncodedResponseCache(ttlMillis: 1000)

    struct Credentials: Decodable {
        var email: String
        var password: String
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("POST", "/api/auth/login", limit: 1, access: .open) { try login($0) }
        routes.on("POST", "/api/auth/refresh/:session", limit: 0.2, access: .open) { try refresh($0) }
        routes.on("POST", "/api/auth/logout/:session", limit: 1, access: .open) { try logout($0) }
        routes.on("GET", "/api/auth/sessions", limit: 0.5, access: .open) { try sessions($0) }
        routes.on("GET", "/api/auth/session", limit: nil, access: .signedIn) { try session($0) }
        routes.on("POST", "/api/auth/setup", limit: 0.2, access: .open) { try setup($0) }
    }

    func event(_ kind: AuditEvent.Kind, _ severity: AuditEvent.Severity, _ description: String, email: String?,
               request: Request?, extra: [String: AuditValue] = [:], urgent: Bool = false) {
        var metadata = request.map(AuditMiddleware.context(of:)) ?? [:]
        metadata.merge(extra) { $1 }
        audit?.record(AuditEvent(kind: kind, severity: severity, description: description, userEmail: email,
                                 ipAddress: request?.clientIP ?? "unknown", userAgent: request?.headers["User-Agent"],
                                 metadata: metadata, createdAt: environment.clock.now()), urgent: urgent)
    }

    func login(_ request: Request) throws -> Response {
        let body = try Body.decode(Credentials.self, from: request)
        var validator = Validator()
        validator.email(body.email)
        validator.nonEmpty(body.password, field: "password")
        try validator.finish()

        // Unknown e-mails verify against a decoy hash, so both failures take the same time.
        let found = try database.credentials(email: body.email)
        let verified = environment.hasher.verify(body.password, against: found?.passwordHash ?? PasswordHasher.decoy)
        guard let found, verified else {
            event(.loginFailure, .warning, "Failed login attempt", email: body.email, request: request, urgent: true)
            var response = APIError.handler(status: 401, message: "Invalid credentials").response
            response.headers.add("X-Audit-Reason", "login")
            return response
        }
        guard !found.user.disabled else {
            event(.loginFailure, .warning, "Failed login attempt: account disabled", email: body.email, request: request, urgent: true)
            var response = APIError.handler(status: 403, message: "Account disabled").response
            response.headers.add("X-Audit-Reason", "login")
            return response
        }
        event(.login, .info, "Successful login", email: found.user.email, request: request)
        return try sessionResponse(user: found.user, request: request) { LoginDTO(session: $0, user: UserDTO(found.user)) }
    }

    /// Starts a new session for `user` (new id, refresh row with LRU eviction) and answers
    /// `body(session)` with the two cookies.
    func sessionResponse<T: Encodable>(user: User, request: Request, body: (String) -> T) throws -> Response {
        let now = environment.clock.now()
        let session = SessionID.make()
        let refresh = SessionCookies.newRefreshToken()
        try database.createSession(userId: user.id, session: session, tokenHash: refresh.hash,
                                   expiresAt: now.addingTimeInterval(Double(environment.auth.refreshTTL)),
                                   ipAddress: request.clientIP, userAgent: request.headers["User-Agent"],
                                   maxSlots: environment.auth.maxSlots, now: now)
        var response = Response.json(body(session))
        cookies.issue(&response, session: session, user: user, refreshToken: refresh.token, now: now)
        return response
    }

    func refresh(_ request: Request) throws -> Response {
        let session = request.parameter("session") ?? ""
        guard SessionID.isValid(session), let token = request.cookies["\(environment.auth.refreshCookiePrefix)_\(session)"] else {
            throw APIError.unauthorized(detail: "Invalid token")
        }
        let now = environment.clock.now()
        let next = SessionCookies.newRefreshToken()
        let outcome = try database.rotateSession(
            session: session, presentedHash: SessionCookies.hash(token), newHash: next.hash,
            newExpiresAt: now.addingTimeInterval(Double(environment.auth.refreshTTL)), ipAddress: request.clientIP,
            userAgent: request.headers["User-Agent"], chainCapDays: environment.auth.chainCapDays, now: now)
        switch outcome {
        case let .rotated(user):
            event(.tokenRefresh, .info, "Access token refreshed", email: user.email, request: request)
            var response = Response.json(UserOnlyDTO(user: UserDTO(user)))
            cookies.issue(&response, session: session, user: user, refreshToken: next.token, now: now)
            return response
        case let .reused(email, originalIP):
            event(.suspiciousActivity, .critical, "Refresh token reuse detected - token already updated", email: email,
                  request: nil, extra: ["originalIssueIp": .string(originalIP ?? "unknown"), "reuseIp": .string(request.clientIP),
                                        "userAgent": .string(request.headers["User-Agent"] ?? ""), "session": .string(session)],
                  urgent: true)
            return invalidToken(session: session)
        case .invalid, .expired, .disabled:
            return invalidToken(session: session)
        }
    }

    func invalidToken(session: String) -> Response {
        var response = APIError.unauthorized(detail: "Invalid token").response
        cookies.clear(&response, session: session)
        return response
    }

    func logout(_ request: Request) throws -> Response {
        let session = request.parameter("session") ?? ""
        guard SessionID.isValid(session) else { throw APIError.unauthorized(detail: "Invalid token") }
        if let token = request.cookies["\(environment.auth.refreshCookiePrefix)_\(session)"] {
            guard let user = try database.endSession(session: session, presentedHash: SessionCookies.hash(token)) else {
                return invalidToken(session: session)
            }
            event(.logout, .info, "User logged out", email: user.email, request: request)
        }
        var response = Response.json(MessageDTO(message: "Logged out successfully"))
        cookies.clear(&response, session: session)
        return response
    }

    func sessions(_ request: Request) throws -> Response {
        let prefix = "\(environment.auth.refreshCookiePrefix)_"
        var candidates: [(session: String, hash: String)] = []
        for header in request.headers.values(for: "Cookie") {
            for pair in header.split(separator: ";") {
                guard candidates.count < 5, let eq = pair.firstIndex(of: "=") else { continue }
                let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
                guard name.hasPrefix(prefix) else { continue }
                let session = String(name.dropFirst(prefix.count))
                guard SessionID.isValid(session) else { continue }
                let value = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                candidates.append((session, SessionCookies.hash(value)))
            }
        }
        let valid = try database.validSessions(candidates, chainCapDays: environment.auth.chainCapDays, now: environment.clock.now())
        return .json(valid.map { LoginDTO(session: $0.session, user: UserDTO($0.user)) })
    }

    func session(_ request: Request) throws -> Response {
        guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
        // Clients poll this route; the answer (user re-read from the database) is kept for one
        // second per session and worker, so a deleted or disabled user is refused within 1 s.
        let key = identity.sessionId + "\u{0}" + identity.userId
        let now = environment.clock.monotonicMillis()
        if let cached = sessionAnswers.get(key, now: now) { return .json(bytes: cached) }
        guard let user = try database.user(id: identity.userId), !user.disabled else {
            throw APIError.unauthorized(detail: "Invalid token")
        }
        let bytes = JSON.encode(SessionDTO(id: identity.sessionId, user: UserDTO(user)))
        sessionAnswers.put(key, bytes, now: now)
        return .json(bytes: bytes)
    }

    func setup(_ request: Request) throws -> Response {
        // The feature check comes first, so a disabled setup endpoint reveals nothing.
        guard environment.auth.allowSetup else { throw APIError.handler(status: 404, message: "Not found") }
        let body = try Body.decode(Credentials.self, from: request)
        var validator = Validator()
        validator.email(body.email)
        validator.password(body.password, email: body.email)
        try validator.finish()
        let hash = environment.hasher.hash(body.password)
        let created: User?
        do {
            created = try database.createInitialAdminIfNeeded(email: body.email, passwordHash: hash, now: environment.clock.now(),
                                                              promoteExisting: false)
        } catch UserStoreError.duplicateEmail {
            throw APIError.handler(status: 409, message: "User already exists")
        }
        guard let admin = created else { throw APIError.handler(status: 404, message: "Not found") }
        event(.userCreation, .info, "User created with role: admin", email: admin.email, request: request,
              extra: ["role": "admin", "isEmailVerified": "false"])
        return .json(UserDTO(admin), status: 201)
    }
}
