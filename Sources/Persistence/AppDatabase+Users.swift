import Domain
import Foundation
import GRDB

/// Errors of user management that callers turn into precise answers.
public enum UserStoreError: Error, Equatable, Sendable {
    /// The e-mail already belongs to a user.
    case duplicateEmail
    /// No user has this e-mail or id.
    case notFound
}

extension AppDatabase {
    /// Creates a user. Throws `UserStoreError.duplicateEmail` when the e-mail is taken.
    @discardableResult
    public func createUser(email: String, passwordHash: String, role: Role, now: Date) throws -> User {
        try writer.write { db in try Self.insertUser(db, email: email, passwordHash: passwordHash, role: role, now: now) }
    }

    static func insertUser(_ db: Database, email: String, passwordHash: String, role: Role, now: Date) throws -> User {
        if try UserRecord.filter(Column("email") == email).fetchCount(db) > 0 { throw UserStoreError.duplicateEmail }
        let record = UserRecord(id: UUID().uuidString.lowercased(), email: email, passwordHash: passwordHash,
                                role: role.rawValue, isEmailVerified: false, displayName: nil, disabled: false,
                                createdAt: now, updatedAt: now)
        try record.insert(db)
        return record.user
    }

    /// Every user, oldest first.
    public func users() throws -> [User] {
        try writer.read { db in try UserRecord.order(Column("createdAt"), Column("email")).fetchAll(db).map(\.user) }
    }

    /// The user with this exact e-mail.
    public func user(email: String) throws -> User? {
        try writer.read { db in try UserRecord.filter(Column("email") == email).fetchOne(db)?.user }
    }

    /// Changes a user's role.
    public func setRole(email: String, role: Role, now: Date) throws {
        try updateUser(email: email) { record in
            record.role = role.rawValue
            record.updatedAt = now
        }
    }

    /// Replaces a user's password hash and ends every session of theirs.
    public func setPasswordHash(email: String, passwordHash: String, now: Date) throws {
        try writer.write { db in
            guard var record = try UserRecord.filter(Column("email") == email).fetchOne(db) else {
                throw UserStoreError.notFound
            }
            record.passwordHash = passwordHash
            record.updatedAt = now
            try record.update(db)
            try db.execute(sql: "DELETE FROM refresh_tokens WHERE userId = ?", arguments: [record.id])
        }
    }

    /// Disables or re-enables a user; disabling ends every session of theirs.
    public func setDisabled(email: String, disabled: Bool, now: Date) throws {
        try writer.write { db in
            guard var record = try UserRecord.filter(Column("email") == email).fetchOne(db) else {
                throw UserStoreError.notFound
            }
            record.disabled = disabled
            record.updatedAt = now
            try record.update(db)
            if disabled { try db.execute(sql: "DELETE FROM refresh_tokens WHERE userId = ?", arguments: [record.id]) }
        }
    }

    private func updateUser(email: String, _ change: (inout UserRecord) -> Void) throws {
        try writer.write { db in
            guard var record = try UserRecord.filter(Column("email") == email).fetchOne(db) else {
                throw UserStoreError.notFound
            }
            change(&record)
            try record.update(db)
        }
    }

    /// Whether any admin exists.
    public func adminExists() throws -> Bool {
        try writer.read { db in try UserRecord.filter(Column("role") == Role.admin.rawValue).fetchCount(db) > 0 }
    }

    /// Creates the first admin when no admin exists, in one immediate transaction so that two
    /// processes starting together create at most one. Returns the user when it was created.
    /// With `promoteExisting` false, an existing account with that e-mail throws
    /// `duplicateEmail` instead of being promoted (the HTTP setup route must never take over
    /// an account).
    public func createInitialAdminIfNeeded(email: String, passwordHash: String, now: Date,
                                           promoteExisting: Bool = true) throws -> User? {
        try writer.write { db in
            if try UserRecord.filter(Column("role") == Role.admin.rawValue).fetchCount(db) > 0 { return nil }
            if var existing = try UserRecord.filter(Column("email") == email).fetchOne(db) {
                guard promoteExisting else { throw UserStoreError.duplicateEmail }
                // The host's admin address exists as a non-admin: promote it with a fresh password.
                existing.role = Role.admin.rawValue
                existing.passwordHash = passwordHash
                existing.updatedAt = now
                try existing.update(db)
                return existing.user
            }
            return try Self.insertUser(db, email: email, passwordHash: passwordHash, role: .admin, now: now)
        }
    }
}
