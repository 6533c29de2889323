import Domain

/// The contract's UserDto: `{"id","email","displayName","role"}` with `displayName` always
/// present (null when unset). Admin listings add `disabled`.
struct UserDTO: Encodable {
    var id: String
    var email: String
    var displayName: String?
    var role: String
    var disabled: Bool?

    init(_ user: User, includeState: Bool = false) {
        id = user.id
        email = user.email
        displayName = user.displayName
        role = user.role.rawValue
        disabled = includeState ? user.disabled : nil
    }

    enum CodingKeys: String, CodingKey { case id, email, displayName, role, disabled }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(email, forKey: .email)
        try container.encode(displayName, forKey: .displayName)
        try container.encode(role, forKey: .role)
        try container.encodeIfPresent(disabled, forKey: .disabled)
    }
}

/// `{"session","user"}` after a login.
struct LoginDTO: Encodable {
    var session: String
    var user: UserDTO
}

/// `{"user"}` after a refresh.
struct UserOnlyDTO: Encodable {
    var user: UserDTO
}

/// `{"id","user"}` of `GET /api/auth/session`.
struct SessionDTO: Encodable {
    var id: String
    var user: UserDTO
}

/// `{"message"}`.
struct MessageDTO: Encodable {
    var message: String
}
