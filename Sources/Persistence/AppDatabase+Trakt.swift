import Domain
import Foundation
import GRDB

/// A stored Trakt link (tokens as stored: encrypted by the caller).
public struct TraktLink: Sendable, Equatable {
    public var id: String
    public var userId: String
    public var traktSlug: String
    public var traktUsername: String?
    public var accessToken: String?
    public var refreshToken: String?
    public var tokenExpiresAt: Date?
}

extension AppDatabase {
    /// Links `slug` to `userId` (one transaction): any other user's link to that slug and the
    /// user's previous link are removed; the row is created when the slug is new (the
    /// original failed there). Returns the link id.
    @discardableResult
    public func linkTrakt(userId: String, slug: String, username: String?, accessToken: String?, refreshToken: String?,
                          expiresAt: Date?, now: Date) throws -> String {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM trakt_users WHERE (traktSlug = ? AND userId <> ?) OR (userId = ? AND traktSlug <> ?)",
                           arguments: [slug, userId, userId, slug])
            let id = try String.fetchOne(db, sql: "SELECT id FROM trakt_users WHERE traktSlug = ?", arguments: [slug]) ?? UUID().uuidString.lowercased()
            try db.execute(sql: """
                INSERT INTO trakt_users (id, userId, traktSlug, traktUsername, accessToken, refreshToken, tokenExpiresAt, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET userId = excluded.userId, traktUsername = COALESCE(excluded.traktUsername, trakt_users.traktUsername),
                    accessToken = COALESCE(excluded.accessToken, trakt_users.accessToken),
                    refreshToken = COALESCE(excluded.refreshToken, trakt_users.refreshToken),
                    tokenExpiresAt = COALESCE(excluded.tokenExpiresAt, trakt_users.tokenExpiresAt), updatedAt = excluded.updatedAt
                """, arguments: [id, userId, slug, username, accessToken, refreshToken, expiresAt, now, now])
            return id
        }
    }

    /// The link of a user.
    public func traktLink(userId: String) throws -> TraktLink? {
        try writer.read { db in try Self.link(db, "userId = ?", userId) }
    }

    /// The link of a Trakt slug.
    public func traktLink(slug: String) throws -> TraktLink? {
        try writer.read { db in try Self.link(db, "traktSlug = ?", slug) }
    }

    /// Links whose token expires before `before` (the refresh job).
    public func traktLinksExpiring(before: Date) throws -> [TraktLink] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM trakt_users WHERE refreshToken IS NOT NULL AND tokenExpiresAt < ?", arguments: [before]).map(Self.link(from:))
        }
    }

    /// Replaces a link's tokens.
    public func updateTraktTokens(id: String, accessToken: String, refreshToken: String, expiresAt: Date, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE trakt_users SET accessToken = ?, refreshToken = ?, tokenExpiresAt = ?, updatedAt = ? WHERE id = ?",
                           arguments: [accessToken, refreshToken, expiresAt, now, id])
        }
    }

    static func link(_ db: Database, _ condition: String, _ value: String) throws -> TraktLink? {
        try Row.fetchOne(db, sql: "SELECT * FROM trakt_users WHERE \(condition)", arguments: [value]).map(link(from:))
    }

    static func link(from row: Row) -> TraktLink {
        TraktLink(id: row["id"], userId: row["userId"], traktSlug: row["traktSlug"], traktUsername: row["traktUsername"],
                  accessToken: row["accessToken"], refreshToken: row["refreshToken"], tokenExpiresAt: row["tokenExpiresAt"])
    }
}
