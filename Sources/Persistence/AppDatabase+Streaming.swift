import Foundation
import GRDB

/// A source as the Watch Now choice needs it.
public struct StreamableSource: Sendable, Equatable {
    public var id: Int
    public var quality: String?
    public var size: Int
    public var videoCodec: String?
    public var broadcasters: Int?
    public var watchers: Int?
    public var streamingScore: Int
    public var releaseType: String?
    /// Whether its .torrent is stored (it starts at once).
    public var hasFile: Bool
}

extension AppDatabase {
    /// Adds a source to a movie (encrypted columns already encrypted by the caller). Returns
    /// its id, or nil when the movie already has a source with this (deterministically
    /// encrypted) info-hash.
    public func addMovieSource(movieId: Int, encryptedInfoHash: String, encryptedMagnet: String, encryptedURL: String?,
                               encryptedFile: Data?, quality: Int?, size: Int64, videoCodec: Int?, provider: String,
                               now: Date) throws -> Int? {
        try writer.write { db in
            let exists = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM movie_source WHERE movieId = ? AND ih = ?",
                                          arguments: [movieId, encryptedInfoHash]) ?? 0
            guard exists == 0 else { return nil }
            try db.execute(sql: """
                INSERT INTO movie_source (movieId, ih, ml, u, quality, size, videoCodec, source, file, streamingScore, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [movieId, encryptedInfoHash, encryptedMagnet, encryptedURL, quality, size, videoCodec, provider,
                                 encryptedFile, encryptedFile == nil ? 0 : 1, now, now])
            return Int(db.lastInsertedRowID)
        }
    }

    /// Sources of a movie, best first: those whose .torrent is stored (they start at once),
    /// then magnet-only ones (the engine fetches their metadata from peers, BEP 9); within
    /// each, by streaming score, then size, then the newest (an admin's latest attachment).
    public func streamableSources(movieId: Int) throws -> [StreamableSource] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, quality, size, videoCodec, broadcasters, watchers, streamingScore, sourceType, file IS NOT NULL AS hasFile FROM movie_source
                WHERE movieId = ? ORDER BY file IS NOT NULL DESC, streamingScore DESC, size DESC, id DESC
                """, arguments: [movieId]).map { row in
                let quality: Int? = row["quality"]
                let codec: Int? = row["videoCodec"]
                return StreamableSource(id: row["id"], quality: quality.flatMap { Self.qualities.indices.contains($0) ? Self.qualities[$0] : nil },
                                        size: row["size"], videoCodec: codec.flatMap { Self.videoCodecs.indices.contains($0) ? Self.videoCodecs[$0] : nil },
                                        broadcasters: row["broadcasters"], watchers: row["watchers"], streamingScore: row["streamingScore"],
                                        releaseType: (row["sourceType"] as Int?).flatMap { Self.releaseTypes.indices.contains($0) ? Self.releaseTypes[$0] : nil },
                                        hasFile: row["hasFile"])
            }
        }
    }

    /// Whether the movie has any source at all.
    public func sourceCount(movieId: Int) throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM movie_source WHERE movieId = ?", arguments: [movieId]) ?? 0 }
    }

    /// Stores a streaming key (its HMAC only) and the Watch Now intent in one transaction.
    public func issueStreamingKey(keyHash: String, userId: String, movieId: Int, sourceId: Int, expiresAt: Date, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: "INSERT INTO streaming_key (keyHash, movieId, userId, sourceId, expiresAt, createdAt) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [keyHash, movieId, userId, sourceId, expiresAt, now])
            try db.execute(sql: "INSERT INTO stream_intent (userId, movieId, sourceId, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [userId, movieId, sourceId, now])
        }
    }

    /// The (movie, source, user) a valid streaming key grants, by its HMAC.
    public func streamingKey(hash: String, now: Date) throws -> (movieId: Int, sourceId: Int?, userId: String)? {
        try writer.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT movieId, sourceId, userId FROM streaming_key WHERE keyHash = ? AND expiresAt > ?"),
                             arguments: [hash, now]).map { ($0["movieId"], $0["sourceId"], $0["userId"]) }
        }
    }

    /// Deletes expired streaming keys (cleanup job; the original never did).
    @discardableResult
    public func deleteExpiredStreamingKeys(now: Date) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM streaming_key WHERE expiresAt <= ?", arguments: [now])
            return db.changesCount
        }
    }
}
