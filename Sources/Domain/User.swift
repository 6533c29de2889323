/// A household member's account as the rest of the system sees it (no password hash).
public struct User: Sendable, Equatable, Codable {
    /// A UUID string.
    public var id: String
    /// The sign-in e-mail (compared exactly, as the original).
    public var email: String
    /// Optional display name.
    public var displayName: String?
    /// The role.
    public var role: Role
    /// A disabled user cannot sign in or refresh.
    public var disabled: Bool

    /// Creates a user value.
    public init(id: String, email: String, displayName: String? = nil, role: Role, disabled: Bool = false) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.role = role
        self.disabled = disabled
    }
}
