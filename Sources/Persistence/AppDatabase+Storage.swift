import Foundation
import GRDB

/// A torrent's download state as kept in `storage` (fast resume: the verified-pieces
/// bitfield is written as pieces complete, so a restart re-downloads at most the pieces that
/// were in flight).
public struct StorageProgress: Sendable, Equatable {
    public var sourceId: Int
    /// The BEP 3 bitfield of verified pieces.
    public var verifiedPieces: [UInt8]
    public var size: Int64
    public var downloaded: Int64
    /// The torrent's folder.
    public var location: String
    public var lastAccessAt: Date?

    public init(sourceId: Int, verifiedPieces: [UInt8], size: Int64, downloaded: Int64, location: String, lastAccessAt: Date?) {
        self.sourceId = sourceId
        self.verifiedPieces = verifiedPieces
        self.size = size
        self.downloaded = downloaded
        self.location = location
        self.lastAccessAt = lastAccessAt
    }
}

extension AppDatabase {
    /// Records verified pieces (one upsert; called after each verified piece or in batches).
    public func saveStorageProgress(_ progress: StorageProgress, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO storage (movieSourceId, downloadedPieces, size, downloaded, location, lastAccessAt, lastWriteAt, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(movieSourceId) DO UPDATE SET downloadedPieces = excluded.downloadedPieces, size = excluded.size,
                    downloaded = excluded.downloaded, location = excluded.location,
                    lastAccessAt = COALESCE(excluded.lastAccessAt, storage.lastAccessAt), lastWriteAt = excluded.lastWriteAt,
                    updatedAt = excluded.updatedAt
                """, arguments: [progress.sourceId, Data(progress.verifiedPieces), progress.size, progress.downloaded,
                                 String(progress.location.prefix(500)), progress.lastAccessAt, now, now, now])
        }
    }

    /// The saved state of a source's download.
    public func storageProgress(sourceId: Int) throws -> StorageProgress? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM storage WHERE movieSourceId = ?", arguments: [sourceId]).map { row in
                StorageProgress(sourceId: row["movieSourceId"], verifiedPieces: Array((row["downloadedPieces"] as Data?) ?? Data()),
                                size: row["size"], downloaded: row["downloaded"], location: row["location"], lastAccessAt: row["lastAccessAt"])
            }
        }
    }

    /// Downloads not watched since `before`, least recently watched first (quota eviction).
    public func storageLeastRecentlyWatched(before: Date) throws -> [StorageProgress] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM storage WHERE COALESCE(lastAccessAt, createdAt) < ? ORDER BY COALESCE(lastAccessAt, createdAt)
                """, arguments: [before]).map { row in
                StorageProgress(sourceId: row["movieSourceId"], verifiedPieces: Array((row["downloadedPieces"] as Data?) ?? Data()),
                                size: row["size"], downloaded: row["downloaded"], location: row["location"], lastAccessAt: row["lastAccessAt"])
            }
        }
    }
}

extension AppDatabase {
    /// A source's encrypted .torrent bytes and magnet (what the engine opens).
    public func sourceTorrent(id: Int) throws -> (encryptedFile: Data?, encryptedMagnet: String)? {
        try writer.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT file, ml FROM movie_source WHERE id = ?"), arguments: [id]).map { ($0["file"], $0["ml"]) }
        }
    }

    /// Stores the .torrent (encrypted) fetched from peers for a magnet-only source.
    public func storeSourceTorrent(id: Int, encryptedFile: Data, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE movie_source SET file = ?, updatedAt = ? WHERE id = ? AND file IS NULL",
                           arguments: [encryptedFile, now, id])
        }
    }

    /// Forgets a source's download (its files were evicted).
    public func deleteStorage(sourceId: Int) throws {
        try writer.write { db in try db.execute(sql: "DELETE FROM storage WHERE movieSourceId = ?", arguments: [sourceId]) }
    }

    /// Records that a source was streamed now (least-recently-watched eviction reads it).
    public func touchStorage(sourceId: Int, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE storage SET lastAccessAt = ? WHERE movieSourceId = ?", arguments: [now, sourceId])
        }
    }

    /// Watch Now intents not yet picked up by the engine, oldest first; marks them consumed.
    public func consumeStreamIntents(now: Date, limit: Int = 20) throws -> [Int] {
        try consumeIntents(now: now, limit: limit).compactMap(\.sourceId)
    }

    /// Every pending intent: Watch Now (a source) or a prefetch (a movie someone opened;
    /// no source chosen yet). Marks them consumed.
    public func consumeIntents(now: Date, limit: Int = 20) throws -> [(movieId: Int?, episodeId: Int?, sourceId: Int?)] {
        try writer.write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, movieId, episodeId, sourceId FROM stream_intent WHERE consumedAt IS NULL ORDER BY createdAt LIMIT ?
                """, arguments: [limit])
            for row in rows {
                try db.execute(sql: "UPDATE stream_intent SET consumedAt = ? WHERE id = ?", arguments: [now, row["id"] as Int])
            }
            return rows.map { ($0["movieId"], $0["episodeId"], $0["sourceId"]) }
        }
    }

    /// A prefetch intent for a movie a user opened (none while one is still pending; the
    /// engine ignores movies whose torrent is already open). True when one was recorded.
    @discardableResult
    public func recordPrefetchIntent(userId: String, movieId: Int, now: Date) throws -> Bool {
        try writer.write { db in
            let recent = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM stream_intent WHERE movieId = ? AND consumedAt IS NULL
                """, arguments: [movieId]) ?? 0
            guard recent == 0 else { return false }
            try db.execute(sql: "INSERT INTO stream_intent (userId, movieId, sourceId, createdAt) VALUES (?, ?, NULL, ?)",
                           arguments: [userId, movieId, now])
            return true
        }
    }
}
