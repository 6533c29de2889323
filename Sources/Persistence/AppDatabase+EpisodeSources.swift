import Foundation
import GRDB

/// A show the episode-source search should look up.
public struct ShowSearchTarget: Sendable, Equatable {
    public var showId: Int
    public var tmdbId: Int
    public var imdbId: String
    /// Minutes per episode (quality estimates from size).
    public var runtime: Int
}

/// An episode as streaming needs it.
public struct EpisodeRef: Sendable, Equatable {
    public var episodeId: Int
    public var showId: Int
    public var season: Int
    public var episode: Int
}

extension AppDatabase {
    /// The stored episode of a show, by TMDB id and numbers.
    public func episodeRef(showTmdbId: Int, season: Int, episode: Int) throws -> EpisodeRef? {
        try writer.read { db in
            try Row.fetchOne(db, sql: """
                SELECT e.id, t.id AS showId FROM episode e JOIN season s ON s.id = e.seasonId JOIN tv_show t ON t.id = s.tvShowId
                WHERE t.tmdbId = ? AND s.seasonNumber = ? AND e.episodeNumber = ?
                """, arguments: [showTmdbId, season, episode]).map { EpisodeRef(episodeId: $0["id"], showId: $0["showId"], season: season, episode: episode) }
        }
    }

    /// Adds an episode source (`episode` nil: a season pack) found by a directory or
    /// attached by an admin; known hashes of the show get fresh stats. True when new.
    @discardableResult
    public func saveShowSource(showId: Int, season: Int, episode: Int?, _ source: DiscoveredSource, encryptedFile: Data? = nil, now: Date) throws -> Int? {
        try writer.write { db in
            if let existing = try Int.fetchOne(db, sql: "SELECT id FROM movie_source WHERE tvShowId = ? AND ih = ?", arguments: [showId, source.encryptedInfoHash]) {
                try db.execute(sql: """
                    UPDATE movie_source SET broadcasters = COALESCE(?, broadcasters), watchers = COALESCE(?, watchers), streamingScore = ?,
                        file = COALESCE(file, ?), updatedAt = ? WHERE id = ?
                    """, arguments: [source.seeders, source.leechers, source.streamingScore, encryptedFile, now, existing])
                return nil
            }
            try db.execute(sql: """
                INSERT INTO movie_source (tvShowId, season, episode, ih, ml, u, quality, size, videoCodec, broadcasters, watchers, source, sourceType,
                    sourceUploadedAt, streamingScore, file, nextStatsCheckAt, nextFileAttemptAt, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [showId, season, episode, source.encryptedInfoHash, source.encryptedMagnet, source.encryptedURL, source.quality,
                                 source.size, source.videoCodec, source.seeders, source.leechers, source.provider, source.releaseType,
                                 source.uploadedAt, source.streamingScore, encryptedFile, now, now, now, now])
            return Int(db.lastInsertedRowID)
        }
    }

    /// Sources that hold an episode, best first: a stored .torrent first (it starts at once
    /// and the right file can be picked), then the single episode before a season pack (it
    /// downloads only what is watched), then by score and size.
    public func episodeSources(showId: Int, season: Int, episode: Int) throws -> [StreamableSource] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, quality, size, videoCodec, broadcasters, watchers, streamingScore, sourceType, file IS NOT NULL AS hasFile,
                       episode IS NULL AS isPack FROM movie_source
                WHERE tvShowId = ? AND season = ? AND (episode = ? OR episode IS NULL)
                ORDER BY file IS NOT NULL DESC, episode IS NOT NULL DESC, streamingScore DESC, size DESC, id DESC
                """, arguments: [showId, season, episode]).map { row in
                var source = Self.streamable(row)
                source.isPack = row["isPack"]
                return source
            }
        }
    }

    /// Next show whose episode sources are due for a search: shows someone watches, with an
    /// IMDb id, never searched or due again.
    public func nextShowSearchTarget(now: Date) throws -> ShowSearchTarget? {
        try writer.read { db in
            try Row.fetchOne(db, sql: """
                SELECT id, tmdbId, imdbId, episodeRunTime FROM tv_show
                WHERE watching = 1 AND imdbId IS NOT NULL AND imdbId != '' AND COALESCE(nextSourceSearchAt, createdAt) <= ?
                ORDER BY nextSourceSearchAt IS NOT NULL, nextSourceSearchAt, id LIMIT 1
                """, arguments: [now]).map(Self.showSearchTarget(from:))
        }
    }

    /// The search target of one show (on-demand search from Watch Now).
    public func showSearchTarget(showId: Int) throws -> ShowSearchTarget? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT id, tmdbId, imdbId, episodeRunTime FROM tv_show WHERE id = ? AND imdbId IS NOT NULL AND imdbId != ''",
                             arguments: [showId]).map(Self.showSearchTarget(from:))
        }
    }

    /// A show row as a search target (the first episode runtime, 45 min when unknown).
    static func showSearchTarget(from row: Row) -> ShowSearchTarget {
        let runtimes = (row["episodeRunTime"] as String? ?? "").split { !$0.isNumber }.compactMap { Int($0) }
        return ShowSearchTarget(showId: row["id"], tmdbId: row["tmdbId"], imdbId: row["imdbId"], runtime: runtimes.first ?? 45)
    }

    /// Records that a show was searched and when to search again.
    public func showSearched(showId: Int, nextSearchAt: Date, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE tv_show SET sourceSearchedAt = ?, nextSourceSearchAt = ? WHERE id = ?", arguments: [now, nextSearchAt, showId])
        }
    }

    /// Stores a streaming key for an episode and the Watch Now intent in one transaction.
    public func issueEpisodeStreamingKey(keyHash: String, userId: String, episodeId: Int, sourceId: Int, expiresAt: Date, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: "INSERT INTO streaming_key (keyHash, episodeId, userId, sourceId, expiresAt, createdAt) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [keyHash, episodeId, userId, sourceId, expiresAt, now])
            try db.execute(sql: "INSERT INTO stream_intent (userId, episodeId, sourceId, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [userId, episodeId, sourceId, now])
        }
    }

    static func streamable(_ row: Row) -> StreamableSource {
        let quality: Int? = row["quality"]
        let codec: Int? = row["videoCodec"]
        return StreamableSource(id: row["id"], quality: quality.flatMap { qualities.indices.contains($0) ? qualities[$0] : nil },
                                size: row["size"], videoCodec: codec.flatMap { videoCodecs.indices.contains($0) ? videoCodecs[$0] : nil },
                                broadcasters: row["broadcasters"], watchers: row["watchers"], streamingScore: row["streamingScore"],
                                releaseType: (row["sourceType"] as Int?).flatMap { releaseTypes.indices.contains($0) ? releaseTypes[$0] : nil },
                                hasFile: row["hasFile"])
    }
}

extension AppDatabase {
    /// Marks a show as being watched: its seasons are completed and its episode sources
    /// searched in the background.
    public func markShowWatching(showId: Int) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE tv_show SET watching = 1 WHERE id = ? AND watching = 0", arguments: [showId])
        }
    }

    /// Whether a show has any episode source for this season.
    public func seasonSourceCount(showId: Int, season: Int) throws -> Int {
        try writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM movie_source WHERE tvShowId = ? AND season = ?", arguments: [showId, season]) ?? 0
        }
    }
}

extension AppDatabase {
    /// The episode after this one (the next in the season, else the first of a later
    /// season; specials left out), if stored and aired by `today`.
    public func nextEpisodeRef(showTmdbId: Int, season: Int, episode: Int, today: String) throws -> EpisodeRef? {
        try writer.read { db in
            try Row.fetchOne(db, sql: """
                SELECT e.id, t.id AS showId, s.seasonNumber, e.episodeNumber FROM episode e JOIN season s ON s.id = e.seasonId
                JOIN tv_show t ON t.id = s.tvShowId
                WHERE t.tmdbId = ? AND s.seasonNumber > 0 AND (s.seasonNumber > ? OR (s.seasonNumber = ? AND e.episodeNumber > ?))
                  AND (e.airDate IS NULL OR e.airDate = '' OR e.airDate <= ?)
                ORDER BY s.seasonNumber, e.episodeNumber LIMIT 1
                """, arguments: [showTmdbId, season, season, episode, today]).map {
                EpisodeRef(episodeId: $0["id"], showId: $0["showId"], season: $0["seasonNumber"], episode: $0["episodeNumber"])
            }
        }
    }

    /// The episode behind an id (the engine's prefetch intents).
    public func episodeRef(episodeId: Int) throws -> EpisodeRef? {
        try writer.read { db in
            try Row.fetchOne(db, sql: """
                SELECT e.id, s.tvShowId, s.seasonNumber, e.episodeNumber FROM episode e JOIN season s ON s.id = e.seasonId WHERE e.id = ?
                """, arguments: [episodeId]).map { EpisodeRef(episodeId: $0["id"], showId: $0["tvShowId"], season: $0["seasonNumber"], episode: $0["episodeNumber"]) }
        }
    }

    /// A prefetch intent for an episode someone is about to watch (none while one is still
    /// pending). True when one was recorded.
    @discardableResult
    public func recordEpisodePrefetchIntent(userId: String, episodeId: Int, now: Date) throws -> Bool {
        try writer.write { db in
            let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM stream_intent WHERE episodeId = ? AND consumedAt IS NULL",
                                           arguments: [episodeId]) ?? 0
            guard pending == 0 else { return false }
            try db.execute(sql: "INSERT INTO stream_intent (userId, episodeId, sourceId, createdAt) VALUES (?, ?, NULL, ?)",
                           arguments: [userId, episodeId, now])
            return true
        }
    }
}
