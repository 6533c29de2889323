import Domain
import Foundation
import GRDB

extension AppDatabase {
    /// Changes role and/or disabled flag of a user by id; disabling ends their sessions.
    /// Returns the updated user, nil when unknown.
    public func updateUser(id: String, role: Role?, disabled: Bool?, now: Date) throws -> User? {
        try writer.write { db in
            guard var record = try UserRecord.fetchOne(db, key: id) else { return nil }
            if let role { record.role = role.rawValue }
            if let disabled { record.disabled = disabled }
            record.updatedAt = now
            try record.update(db)
            if disabled == true { try db.execute(sql: "DELETE FROM refresh_tokens WHERE userId = ?", arguments: [id]) }
            return record.user
        }
    }

    /// Deletes a user (sessions, progress and keys cascade). Returns the deleted user.
    public func deleteUser(id: String) throws -> User? {
        try writer.write { db in
            guard let record = try UserRecord.fetchOne(db, key: id) else { return nil }
            try record.delete(db)
            return record.user
        }
    }

    /// Replaces the password hash of a user by id and ends their sessions except `keeping`.
    public func setPasswordHash(userId: String, passwordHash: String, keeping session: String?, now: Date) throws -> User? {
        try writer.write { db in
            guard var record = try UserRecord.fetchOne(db, key: userId) else { return nil }
            record.passwordHash = passwordHash
            record.updatedAt = now
            try record.update(db)
            try db.execute(sql: "DELETE FROM refresh_tokens WHERE userId = ? AND session IS NOT ?", arguments: [userId, session])
            return record.user
        }
    }

    /// The number of admins that are not disabled (the last one cannot be demoted or deleted).
    public func activeAdminCount() throws -> Int {
        try writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0") ?? 0
        }
    }
}
