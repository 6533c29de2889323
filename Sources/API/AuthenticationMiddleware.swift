import Crypto
import WebCore

/// Resolves the caller from `X-Session-Id` and the access cookie named after it
/// (reference §3.3). Never rejects: an invalid or missing token means "anonymous"; guards
/// decide later. `Authorization: Bearer` is ignored, as in the original.
struct AuthenticationMiddleware: Middleware {
    let jwt: HS256JWT
    let cookiePrefix: String
    let clock: APIClock

    func respond(to request: Request, next: any Responder) throws -> Response {
        var request = request
        request.identity = identify(request)
        return try next.respond(to: request)
    }

    func identify(_ request: Request) -> AuthIdentity? {
        guard let session = request.headers["X-Session-Id"], SessionID.isValid(session),
              let token = request.cookies["\(cookiePrefix)_\(session)"],
              let claims = try? jwt.verify(token, now: Int(clock.now().timeIntervalSince1970)) else { return nil }
        return AuthIdentity(sessionId: session, userId: claims.userId, email: claims.email, role: claims.role)
    }
}

/// Session ids: 16 random bytes in base64url, 22 characters.
enum SessionID {
    static func make() -> String { Encoding.base64URL(SecureRandom.bytes(16)) }

    static func isValid(_ text: String) -> Bool {
        text.utf8.count == 22 && text.utf8.allSatisfy {
            ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95
        }
    }
}
