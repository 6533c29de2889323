import Domain
import Foundation
import GRDB

/// A row of `users`.
struct UserRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "users"

    var id: String
    var email: String
    var passwordHash: String?
    var role: String
    var isEmailVerified: Bool
    var displayName: String?
    var disabled: Bool
    var createdAt: Date
    var updatedAt: Date

    var user: User {
        User(id: id, email: email, displayName: displayName, role: Role(rawValue: role) ?? .guest, disabled: disabled)
    }
}
