import Crypto
import Domain
import Foundation
import Persistence
import WebCore

/// Account management: `POST /api/auth/users` (reference #8, 409 on duplicates) and our
/// additions — list, change role, disable/enable, delete, reset password (admin), and
/// change one's own password.
struct UserRoutes {
    let environment: APIEnvironment
    let database: AppDatabase
    let auth: AuthRoutes

    struct NewUser: Decodable {
        var email: String
        var password: String
        var role: String?
    }

    struct UserChange: Decodable {
        var role: String?
        var disabled: Bool?
    }

    struct PasswordReset: Decodable {
        var password: String
    }

    struct PasswordChange: Decodable {
        var currentPassword: String
        var newPassword: String
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("POST", "/api/auth/users", limit: 1, access: .admin, guardFirst: true) { try create($0) }
        routes.on("GET", "/api/auth/users", limit: 5, access: .admin, guardFirst: true) { _ in
            .json(try database.users().map { UserDTO($0, includeState: true) })
        }
        routes.on("PATCH", "/api/auth/users/:id", limit: 2, access: .admin, guardFirst: true) { try update($0) }
        routes.on("DELETE", "/api/auth/users/:id", limit: 1, access: .admin, guardFirst: true) { try delete($0) }
        routes.on("POST", "/api/auth/users/:id/password", limit: 1, access: .admin, guardFirst: true) { try reset($0) }
        routes.on("POST", "/api/auth/password", limit: 1, access: .signedIn, guardFirst: true) { try changeOwn($0) }
    }

    func create(_ request: Request) throws -> Response {
        let body = try Body.decode(NewUser.self, from: request)
        var validator = Validator()
        validator.email(body.email)
        validator.password(body.password, email: body.email)
        let role = validator.role(body.role ?? "user")
        try validator.finish()
        let user: User
        do {
            user = try database.createUser(email: body.email, passwordHash: environment.hasher.hash(body.password),
                                           role: role ?? .user, now: environment.clock.now())
        } catch UserStoreError.duplicateEmail {
            throw APIError.handler(status: 409, message: "User already exists")
        }
        auth.event(.userCreation, .info, "User created with role: \(user.role.rawValue)", email: user.email, request: request,
                   extra: ["role": .string(user.role.rawValue), "isEmailVerified": "false",
                           "createdBy": .string(request.identity?.email ?? "")])
        return .json(UserDTO(user), status: 201)
    }

    func target(_ request: Request) throws -> User {
        guard let id = request.parameter("id"), id.utf8.count <= 64, let user = try database.user(id: id) else {
            throw APIError.handler(status: 404, message: "User not found")
        }
        return user
    }

    /// The last active admin can be neither demoted, disabled nor deleted.
    func protectLastAdmin(_ user: User, losingAdmin: Bool) throws {
        guard losingAdmin, user.role == .admin, !user.disabled, try database.activeAdminCount() <= 1 else { return }
        throw APIError.handler(status: 409, message: "Cannot remove the last admin")
    }

    func update(_ request: Request) throws -> Response {
        let user = try target(request)
        let body = try Body.decode(UserChange.self, from: request)
        var validator = Validator()
        let role = validator.role(body.role)
        try validator.finish()
        guard role != nil || body.disabled != nil else {
            throw APIError.validation([ValidationIssue(path: [], code: "custom", message: "Nothing to change: send role and/or disabled")])
        }
        try protectLastAdmin(user, losingAdmin: (role != nil && role != .admin) || body.disabled == true)
        guard let updated = try database.updateUser(id: user.id, role: role, disabled: body.disabled, now: environment.clock.now()) else {
            throw APIError.handler(status: 404, message: "User not found")
        }
        if let role, role != user.role {
            auth.event(.roleChange, .info, "Role of \(user.email) changed from \(user.role.rawValue) to \(role.rawValue)",
                       email: request.identity?.email, request: request,
                       extra: ["targetUserEmail": .string(user.email), "role": .string(role.rawValue)])
        }
        if let disabled = body.disabled, disabled != user.disabled {
            auth.event(.userUpdate, .info, "User \(user.email) \(disabled ? "disabled" : "enabled")",
                       email: request.identity?.email, request: request, extra: ["targetUserEmail": .string(user.email)])
        }
        return .json(UserDTO(updated, includeState: true))
    }

    func delete(_ request: Request) throws -> Response {
        let user = try target(request)
        try protectLastAdmin(user, losingAdmin: true)
        _ = try database.deleteUser(id: user.id)
        auth.event(.userDeletion, .warning, "User \(user.email) deleted", email: request.identity?.email, request: request,
                   extra: ["targetUserEmail": .string(user.email)])
        return .json(MessageDTO(message: "User deleted"))
    }

    func reset(_ request: Request) throws -> Response {
        let user = try target(request)
        let body = try Body.decode(PasswordReset.self, from: request)
        var validator = Validator()
        validator.password(body.password, email: user.email)
        try validator.finish()
        _ = try database.setPasswordHash(userId: user.id, passwordHash: environment.hasher.hash(body.password), keeping: nil,
                                         now: environment.clock.now())
        auth.event(.passwordResetComplete, .warning, "Password of \(user.email) reset by an admin",
                   email: request.identity?.email, request: request, extra: ["targetUserEmail": .string(user.email)])
        return .json(MessageDTO(message: "Password reset; the user was signed out everywhere"))
    }

    func changeOwn(_ request: Request) throws -> Response {
        guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
        let body = try Body.decode(PasswordChange.self, from: request)
        guard let found = try database.credentials(email: identity.email), found.user.id == identity.userId else {
            throw APIError.unauthorized(detail: "Invalid token")
        }
        guard environment.hasher.verify(body.currentPassword, against: found.passwordHash) else {
            throw APIError.handler(status: 403, message: "Current password is incorrect")
        }
        var validator = Validator()
        validator.password(body.newPassword, email: identity.email, field: "newPassword")
        try validator.finish()
        _ = try database.setPasswordHash(userId: identity.userId, passwordHash: environment.hasher.hash(body.newPassword),
                                         keeping: identity.sessionId, now: environment.clock.now())
        auth.event(.passwordChange, .info, "Password changed", email: identity.email, request: request)
        return .json(MessageDTO(message: "Password changed; your other sessions were signed out"))
    }
}
