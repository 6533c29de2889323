import Foundation
import GRDB

extension AppDatabase {
    /// A cached upstream answer that has not expired.
    public func cachedResponse(key: String, now: Date) throws -> [UInt8]? {
        try writer.unsafeReentrantRead { db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT value FROM response_cache WHERE key = ? AND expiresAt > ?"),
                              arguments: [key, now]).map { Array($0) }
        }
    }

    /// Stores an upstream answer until `expiresAt`.
    public func storeResponse(key: String, value: [UInt8], expiresAt: Date) throws {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO response_cache (key, value, expiresAt) VALUES (?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, expiresAt = excluded.expiresAt
                """, arguments: [key, Data(value), expiresAt])
        }
    }

    /// Deletes expired cache rows (cleanup job); returns how many.
    @discardableResult
    public func deleteExpiredResponses(now: Date) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM response_cache WHERE expiresAt <= ?", arguments: [now])
            return db.changesCount
        }
    }
}
