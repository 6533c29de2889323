import Domain
import Foundation
import GRDB

/// What a refresh attempt found.
public enum RefreshOutcome: Sendable, Equatable {
    /// The token matched and was rotated; the user is current.
    case rotated(User)
    /// No such session or a token that never belonged to it.
    case invalid
    /// The session's lifetime or 30-day chain ran out; the row was deleted.
    case expired
    /// The user is disabled; the row was deleted.
    case disabled
    /// A rotated-away token was presented again: the session was revoked.
    case reused(email: String, originalIssueIp: String?)
}

/// One stored session (refresh-token row) as the API sees it.
public struct StoredSession: Sendable, Equatable {
    /// The 22-character session id.
    public var session: String
    /// Its user.
    public var user: User
}

extension AppDatabase {
    /// The user and password hash for a login (exact e-mail match, as the original).
    public func credentials(email: String) throws -> (user: User, passwordHash: String)? {
        try writer.read { db in
            guard let record = try UserRecord.filter(Column("email") == email).fetchOne(db),
                  let hash = record.passwordHash else { return nil }
            return (record.user, hash)
        }
    }

    /// The user with this id. A cached statement: this runs on every authenticated
    /// `GET /api/auth/session`, where GRDB's query interface cost four times as much.
    public func user(id: String) throws -> User? {
        // One SELECT is atomic on its own: no BEGIN/COMMIT round trip around it.
        try writer.unsafeReentrantRead { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, email, displayName, role, disabled FROM users WHERE id = ?"),
                                             arguments: [id]) else { return nil }
            return User(id: row["id"], email: row["email"], displayName: row["displayName"],
                        role: Role(rawValue: row["role"]) ?? .guest, disabled: row["disabled"])
        }
    }

    /// Stores a new session. When the user already has `maxSlots` sessions, the least
    /// recently used ones are deleted first (one transaction).
    public func createSession(userId: String, session: String, tokenHash: String, expiresAt: Date,
                              ipAddress: String?, userAgent: String?, maxSlots: Int, now: Date) throws {
        try writer.write { db in
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM refresh_tokens WHERE userId = ?", arguments: [userId]) ?? 0
            if count >= maxSlots {
                try db.execute(sql: """
                    DELETE FROM refresh_tokens WHERE id IN (
                        SELECT id FROM refresh_tokens WHERE userId = ? ORDER BY lastAccessedAt ASC, createdAt ASC LIMIT ?)
                    """, arguments: [userId, count - maxSlots + 1])
            }
            try db.execute(sql: """
                INSERT INTO refresh_tokens (id, tokenHash, expiresAt, userId, session, userAgent, lastIpAddress,
                                            lastAccessedAt, accessCount, issueIpAddress, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
                """, arguments: [UUID().uuidString.lowercased(), tokenHash, expiresAt, userId, session,
                                 userAgent.map { String($0.prefix(500)) }, ipAddress, now, ipAddress, now, now])
        }
    }

    /// Verifies `presentedHash` for `session` and rotates it to `newHash` with a conditional
    /// update, remembering the old hash for reuse detection.
    public func rotateSession(session: String, presentedHash: String, newHash: String, newExpiresAt: Date,
                              ipAddress: String?, userAgent: String?, chainCapDays: Int, now: Date) throws -> RefreshOutcome {
        try writer.write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.id, r.tokenHash, r.expiresAt, r.createdAt, r.issueIpAddress, u.id AS uid, u.email, u.displayName,
                       u.role, u.disabled
                FROM refresh_tokens r JOIN users u ON u.id = r.userId WHERE r.session = ?
                """, arguments: [session])
            guard rows.count == 1, let row = rows.first else { return .invalid }
            let id: String = row["id"]
            let stored: String = row["tokenHash"]
            let user = User(id: row["uid"], email: row["email"], displayName: row["displayName"],
                            role: Role(rawValue: row["role"]) ?? .guest, disabled: row["disabled"])
            guard Self.sameHash(stored, presentedHash) else {
                let known = try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM refresh_token_history WHERE tokenHash = ? AND refreshTokenId = ?
                    """, arguments: [presentedHash, id]) ?? 0
                if known > 0 {
                    try db.execute(sql: "DELETE FROM refresh_tokens WHERE id = ?", arguments: [id])
                    return .reused(email: user.email, originalIssueIp: row["issueIpAddress"])
                }
                return .invalid
            }
            let expiresAt: Date = row["expiresAt"]
            let createdAt: Date = row["createdAt"]
            if expiresAt <= now || createdAt.addingTimeInterval(Double(chainCapDays) * 86400) <= now {
                try db.execute(sql: "DELETE FROM refresh_tokens WHERE id = ?", arguments: [id])
                return .expired
            }
            if user.disabled {
                try db.execute(sql: "DELETE FROM refresh_tokens WHERE id = ?", arguments: [id])
                return .disabled
            }
            try db.execute(sql: """
                UPDATE refresh_tokens SET tokenHash = ?, expiresAt = ?, lastIpAddress = ?, lastAccessedAt = ?,
                       updatedAt = ?, accessCount = accessCount + 1, userAgent = COALESCE(?, userAgent)
                WHERE id = ? AND tokenHash = ?
                """, arguments: [newHash, newExpiresAt, ipAddress, now, now, userAgent.map { String($0.prefix(500)) },
                                 id, presentedHash])
            guard db.changesCount == 1 else { return .reused(email: user.email, originalIssueIp: row["issueIpAddress"]) }
            try db.execute(sql: "INSERT OR IGNORE INTO refresh_token_history (tokenHash, refreshTokenId, rotatedAt) VALUES (?, ?, ?)",
                           arguments: [presentedHash, id, now])
            return .rotated(user)
        }
    }

    /// The valid sessions among `candidates` (session id, presented hash), without rotating.
    /// Expired rows among them are deleted.
    public func validSessions(_ candidates: [(session: String, hash: String)], chainCapDays: Int, now: Date) throws -> [StoredSession] {
        guard !candidates.isEmpty else { return [] }
        return try writer.write { db in
            var result: [StoredSession] = []
            for candidate in candidates {
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT r.id, r.tokenHash, r.expiresAt, r.createdAt, u.id AS uid, u.email, u.displayName, u.role, u.disabled
                    FROM refresh_tokens r JOIN users u ON u.id = r.userId WHERE r.session = ?
                    """, arguments: [candidate.session]) else { continue }
                let stored: String = row["tokenHash"]
                guard Self.sameHash(stored, candidate.hash) else { continue }
                let expiresAt: Date = row["expiresAt"]
                let createdAt: Date = row["createdAt"]
                if expiresAt <= now || createdAt.addingTimeInterval(Double(chainCapDays) * 86400) <= now {
                    try db.execute(sql: "DELETE FROM refresh_tokens WHERE id = ?", arguments: [row["id"] as String])
                    continue
                }
                let disabled: Bool = row["disabled"]
                guard !disabled else { continue }
                result.append(StoredSession(session: candidate.session, user: User(
                    id: row["uid"], email: row["email"], displayName: row["displayName"],
                    role: Role(rawValue: row["role"]) ?? .guest, disabled: disabled)))
            }
            return result
        }
    }

    /// Deletes `session` when `presentedHash` is its current token. Returns its user, or nil
    /// when the token does not match (nothing is deleted then).
    public func endSession(session: String, presentedHash: String) throws -> User? {
        try writer.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT r.id, r.tokenHash, u.id AS uid, u.email, u.displayName, u.role, u.disabled
                FROM refresh_tokens r JOIN users u ON u.id = r.userId WHERE r.session = ?
                """, arguments: [session]) else { return nil }
            let stored: String = row["tokenHash"]
            guard Self.sameHash(stored, presentedHash) else { return nil }
            try db.execute(sql: "DELETE FROM refresh_tokens WHERE id = ?", arguments: [row["id"] as String])
            return User(id: row["uid"], email: row["email"], displayName: row["displayName"],
                        role: Role(rawValue: row["role"]) ?? .guest, disabled: row["disabled"])
        }
    }

    /// Ends every session of a user except `keeping` (password change).
    public func endOtherSessions(userId: String, keeping session: String?) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM refresh_tokens WHERE userId = ? AND session IS NOT ?", arguments: [userId, session])
        }
    }

    /// The number of sessions of a user.
    public func sessionCount(userId: String) throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM refresh_tokens WHERE userId = ?", arguments: [userId]) ?? 0 }
    }

    /// Deletes expired refresh tokens (cleanup job).
    @discardableResult
    public func deleteExpiredSessions(now: Date) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM refresh_tokens WHERE expiresAt <= ?", arguments: [now])
            return db.changesCount
        }
    }

    static func sameHash(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
