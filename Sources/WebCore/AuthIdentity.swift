/// Who is making a request, resolved from `X-Session-Id` and the matching access cookie.
public struct AuthIdentity: Sendable, Equatable {
    /// The session id from `X-Session-Id`.
    public var sessionId: String
    /// The user's id (JWT `userId`).
    public var userId: String
    /// The user's e-mail.
    public var email: String
    /// The user's role as signed in the token.
    public var role: String

    /// Creates an identity.
    public init(sessionId: String, userId: String, email: String, role: String) {
        self.sessionId = sessionId
        self.userId = userId
        self.email = email
        self.role = role
    }
}
