import Foundation
import GRDB

/// A season and episode number.
public struct EpisodeNumber: Sendable, Equatable {
    public var season: Int
    public var episode: Int

    public init(season: Int, episode: Int) {
        self.season = season
        self.episode = episode
    }
}

/// What a streaming key grants.
public struct StreamingGrant: Sendable, Equatable {
    public var movieId: Int?
    /// For an episode key: which episode (the file to serve inside a season pack).
    public var episode: EpisodeNumber?
    public var sourceId: Int?
    public var userId: String
}

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
    /// A season pack (the episode's file is picked inside it).
    public var isPack = false
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
                """, arguments: [movieId]).map(Self.streamable)
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

    /// What a valid streaming key grants, by its HMAC: the movie or the episode (with its
    /// season and episode numbers, to pick the file inside a season pack), source and user.
    public func streamingKey(hash: String, now: Date) throws -> StreamingGrant? {
        try writer.read { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT k.movieId, k.episodeId, k.sourceId, k.userId, s.seasonNumber, e.episodeNumber FROM streaming_key k
                LEFT JOIN episode e ON e.id = k.episodeId LEFT JOIN season s ON s.id = e.seasonId
                WHERE k.keyHash = ? AND k.expiresAt > ?
                """), arguments: [hash, now]).map { row in
                let season: Int? = row["seasonNumber"], episode: Int? = row["episodeNumber"]
                return StreamingGrant(movieId: row["movieId"], episode: season.flatMap { s in episode.map { (s, $0) } }.map { EpisodeNumber(season: $0.0, episode: $0.1) },
                                      sourceId: row["sourceId"], userId: row["userId"])
            }
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
