import Crypto
import Domain
import Foundation
import WebCore

/// Issues tokens and renders the contract's cookies (reference §3.2): access cookie first,
/// refresh cookie second; deletions carry the same Path and Domain as the cookies they
/// delete (the original's `Path=/` deletion could never remove the refresh cookie).
struct SessionCookies {
    let settings: AuthSettings
    let jwt: HS256JWT

    init(settings: AuthSettings) {
        self.settings = settings
        jwt = HS256JWT(secret: settings.jwtSecret)
    }

    /// A new opaque refresh token (43 characters) and its stored SHA-256 hex.
    static func newRefreshToken() -> (token: String, hash: String) {
        let token = Encoding.base64URL(SecureRandom.bytes(32))
        return (token, hash(token))
    }

    static func hash(_ token: String) -> String { Encoding.hex(Digest.sha256(Array(token.utf8))) }

    func accessToken(for user: User, now: Date) -> String {
        let iat = Int(now.timeIntervalSince1970)
        return jwt.sign(AccessClaims(userId: user.id, email: user.email, role: user.role.rawValue, iat: iat, exp: iat + settings.accessTTL))
    }

    func issue(_ response: inout Response, session: String, user: User, refreshToken: String, now: Date) {
        let domain = settings.cookieDomain
        response.headers.add("Set-Cookie", SetCookie(
            name: "\(settings.accessCookiePrefix)_\(session)", value: accessToken(for: user, now: now),
            maxAge: settings.accessTTL, domain: domain, path: "/", secure: settings.cookieSecure).headerValue)
        response.headers.add("Set-Cookie", SetCookie(
            name: "\(settings.refreshCookiePrefix)_\(session)", value: refreshToken,
            maxAge: settings.refreshTTL, domain: domain, path: "/api/auth/", secure: settings.cookieSecure).headerValue)
    }

    /// Deletion cookies, refresh first (as the original's logout), each with its own path.
    func clear(_ response: inout Response, session: String) {
        let domain = settings.cookieDomain
        response.headers.add("Set-Cookie", SetCookie(
            name: "\(settings.refreshCookiePrefix)_\(session)", value: "", maxAge: 0, domain: domain,
            path: "/api/auth/", secure: settings.cookieSecure).headerValue)
        response.headers.add("Set-Cookie", SetCookie(
            name: "\(settings.accessCookiePrefix)_\(session)", value: "", maxAge: 0, domain: domain,
            path: "/", secure: settings.cookieSecure).headerValue)
    }
}
