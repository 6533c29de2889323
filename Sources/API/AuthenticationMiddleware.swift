import Crypto
import Foundation
import WebCore

/// Resolves the caller from `X-Session-Id` and the access cookie named after it
/// (reference §3.3). Never rejects: an invalid or missing token means "anonymous"; guards
/// decide later. `Authorization: Bearer` is ignored, as in the original.
struct AuthenticationMiddleware: Middleware {
    let jwt: HS256JWT
    let cookiePrefix: String
    let clock: APIClock
    let cache = VerifiedTokenCache()

    func respond(to request: Request, next: any Responder) throws -> Response {
        var request = request
        request.identity = identify(request)
        return try next.respond(to: request)
    }

    func identify(_ request: Request) -> AuthIdentity? {
        guard let session = request.headers["X-Session-Id"], SessionID.isValid(session),
              let token = request.cookies["\(cookiePrefix)_\(session)"] else { return nil }
        let now = Int(clock.now().timeIntervalSince1970)
        let claims: AccessClaims
        if let cached = cache.claims(for: token, now: now) {
            claims = cached
        } else {
            guard let verified = try? jwt.verify(token, now: now) else { return nil }
            cache.store(verified, for: token, now: now)
            claims = verified
        }
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

/// Tokens this worker has already verified, until they expire. A browser sends the same
/// access cookie with every request for 15 minutes; verifying it once instead of on every
/// request is what keeps authenticated routes close to the unauthenticated floor. Bounded:
/// past `capacity` entries, expired ones are dropped, then everything.
final class VerifiedTokenCache: @unchecked Sendable {
    private var entries: [String: AccessClaims] = [:]
    private let lock = NSLock()
    let capacity = 4096

    func claims(for token: String, now: Int) -> AccessClaims? {
        lock.lock()
        defer { lock.unlock() }
        guard let claims = entries[token] else { return nil }
        guard claims.exp > now else {
            entries[token] = nil
            return nil
        }
        return claims
    }

    func store(_ claims: AccessClaims, for token: String, now: Int) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity {
            entries = entries.filter { $0.value.exp > now }
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        }
        entries[token] = claims
    }
}
