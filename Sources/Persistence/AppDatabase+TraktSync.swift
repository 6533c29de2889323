import Foundation
import GRDB

/// A scrobble waiting to be pushed to Trakt.
public struct PendingScrobble: Sendable, Equatable {
    public var id: Int
    public var userId: String
    public var action: String
    public var title: WatchProgress.Title
    /// Percent.
    public var progress: Double
    public var attempts: Int
}

/// A Trakt watchlist entry as stored (with our artwork when the title is stored).
public struct WatchlistEntry: Sendable, Equatable {
    public var kind: String
    public var tmdbId: Int
    public var title: String
    public var year: Int?
    public var poster: String?
    public var backdrop: String?
    public var listedAt: Date?
}

extension AppDatabase {
    /// Queues a scrobble. A scrobble of the same title still waiting is replaced (only the
    /// player's latest state matters to Trakt).
    public func queueScrobble(userId: String, action: String, title: WatchProgress.Title, progress: Double, now: Date) throws {
        let (kind, tmdbId, season, episode) = Self.columns(title)
        try writer.write { db in
            try db.execute(sql: """
                DELETE FROM trakt_outbox WHERE userId = ? AND kind = ? AND tmdbId = ? AND season IS ? AND episode IS ? AND attempts = 0
                """, arguments: [userId, kind, tmdbId, season, episode])
            try db.execute(sql: """
                INSERT INTO trakt_outbox (userId, action, kind, tmdbId, season, episode, progress, nextAttemptAt, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [userId, action, kind, tmdbId, season, episode, progress, now, now])
        }
    }

    /// Scrobbles due for sending, oldest first.
    public func dueScrobbles(now: Date, limit: Int) throws -> [PendingScrobble] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM trakt_outbox WHERE nextAttemptAt <= ? ORDER BY id LIMIT ?", arguments: [now, limit]).map { row in
                let kind: String = row["kind"]
                let title: WatchProgress.Title = kind == "movie" ? .movie(tmdbId: row["tmdbId"])
                    : .episode(showTmdbId: row["tmdbId"], season: row["season"] ?? 0, episode: row["episode"] ?? 0)
                return PendingScrobble(id: row["id"], userId: row["userId"], action: row["action"], title: title, progress: row["progress"],
                                       attempts: row["attempts"])
            }
        }
    }

    /// A scrobble was delivered (or given up): it leaves the outbox.
    public func deleteScrobble(id: Int) throws {
        try writer.write { db in try db.execute(sql: "DELETE FROM trakt_outbox WHERE id = ?", arguments: [id]) }
    }

    /// A scrobble failed: tried again at `next`.
    public func scrobbleFailed(id: Int, next: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE trakt_outbox SET attempts = attempts + 1, nextAttemptAt = ? WHERE id = ?", arguments: [next, id])
        }
    }

    /// Links with a token that were not pulled since `before`.
    public func traktLinksToPull(before: Date) throws -> [TraktLink] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM trakt_users WHERE accessToken IS NOT NULL AND COALESCE(lastPulledAt, 0) < ?",
                             arguments: [before]).map(Self.link(from:))
        }
    }

    public func markTraktPulled(id: String, now: Date) throws {
        try writer.write { db in try db.execute(sql: "UPDATE trakt_users SET lastPulledAt = ? WHERE id = ?", arguments: [now, id]) }
    }

    /// Replaces a user's watchlist (one transaction).
    public func replaceTraktWatchlist(userId: String, _ entries: [(kind: String, tmdbId: Int, title: String, year: Int?, listedAt: Date?)]) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM trakt_watchlist WHERE userId = ?", arguments: [userId])
            for entry in entries.prefix(5000) {
                try db.execute(sql: "INSERT OR REPLACE INTO trakt_watchlist (userId, kind, tmdbId, title, year, listedAt) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [userId, entry.kind, entry.tmdbId, entry.title, entry.year, entry.listedAt])
            }
        }
    }

    /// A user's watchlist, most recently listed first, with artwork of stored titles.
    public func traktWatchlist(userId: String) throws -> [WatchlistEntry] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT w.kind, w.tmdbId, w.title, w.year, w.listedAt, COALESCE(m.poster, t.poster) AS poster, COALESCE(m.backdrop, t.backdrop) AS backdrop,
                       COALESCE(m.title, t.name) AS storedTitle
                FROM trakt_watchlist w
                LEFT JOIN movie m ON w.kind = 'movie' AND m.tmdbId = w.tmdbId
                LEFT JOIN tv_show t ON w.kind = 'show' AND t.tmdbId = w.tmdbId
                WHERE w.userId = ? ORDER BY w.listedAt DESC, w.title
                """, arguments: [userId]).map { row in
                let stored: String? = row["storedTitle"]
                let title: String = row["title"]
                return WatchlistEntry(kind: row["kind"], tmdbId: row["tmdbId"], title: (stored?.isEmpty == false ? stored : nil) ?? title,
                                      year: row["year"], poster: row["poster"], backdrop: row["backdrop"], listedAt: row["listedAt"])
            }
        }
    }

    /// Marks stored titles Trakt says were watched as watched (progress kept); returns how
    /// many changed. Titles we do not store are skipped.
    @discardableResult
    public func applyTraktWatched(userId: String, _ titles: [WatchProgress.Title], now: Date) throws -> Int {
        try writer.write { db in
            var changed = 0
            for title in titles.prefix(20_000) {
                switch title {
                case let .movie(tmdbId):
                    guard let movieId = try Int.fetchOne(db.cachedStatement(sql: "SELECT id FROM movie WHERE tmdbId = ?"), arguments: [tmdbId]) else { continue }
                    try db.execute(sql: """
                        INSERT INTO progress_movie (userId, movieId, fraction, status, watched, createdAt, updatedAt) VALUES (?, ?, 1, 'completed', 1, ?, ?)
                        ON CONFLICT(userId, movieId) DO UPDATE SET watched = 1 WHERE watched = 0
                        """, arguments: [userId, movieId, now, now])
                    changed += db.changesCount
                case let .episode(show, season, episode):
                    guard let episodeId = try Self.episodeId(db, showTmdbId: show, season: season, episode: episode) else { continue }
                    try db.execute(sql: """
                        INSERT INTO progress_episode (userId, episodeId, fraction, status, watched, createdAt, updatedAt) VALUES (?, ?, 1, 'completed', 1, ?, ?)
                        ON CONFLICT(userId, episodeId) DO UPDATE SET watched = 1 WHERE watched = 0
                        """, arguments: [userId, episodeId, now, now])
                    changed += db.changesCount
                }
            }
            return changed
        }
    }

    /// Paused playbacks from Trakt: a stored title's progress takes Trakt's fraction when we
    /// have nothing newer. Returns how many changed.
    @discardableResult
    public func applyTraktPlayback(userId: String, _ playbacks: [(title: WatchProgress.Title, fraction: Double, pausedAt: Date)]) throws -> Int {
        try writer.write { db in
            var changed = 0
            for playback in playbacks.prefix(1000) {
                let fraction = min(1, max(0, playback.fraction))
                switch playback.title {
                case let .movie(tmdbId):
                    guard let movieId = try Int.fetchOne(db, sql: "SELECT id FROM movie WHERE tmdbId = ?", arguments: [tmdbId]) else { continue }
                    try db.execute(sql: """
                        INSERT INTO progress_movie (userId, movieId, fraction, status, watched, createdAt, updatedAt) VALUES (?, ?, ?, 'paused', 0, ?, ?)
                        ON CONFLICT(userId, movieId) DO UPDATE SET fraction = excluded.fraction, status = 'paused',
                            positionSeconds = excluded.fraction * durationSeconds, updatedAt = excluded.updatedAt
                        WHERE updatedAt < excluded.updatedAt AND watched = 0
                        """, arguments: [userId, movieId, fraction, playback.pausedAt, playback.pausedAt])
                    changed += db.changesCount
                case let .episode(show, season, episode):
                    guard let episodeId = try Self.episodeId(db, showTmdbId: show, season: season, episode: episode) else { continue }
                    try db.execute(sql: """
                        INSERT INTO progress_episode (userId, episodeId, fraction, status, watched, createdAt, updatedAt) VALUES (?, ?, ?, 'paused', 0, ?, ?)
                        ON CONFLICT(userId, episodeId) DO UPDATE SET fraction = excluded.fraction, status = 'paused',
                            positionSeconds = excluded.fraction * durationSeconds, updatedAt = excluded.updatedAt
                        WHERE updatedAt < excluded.updatedAt AND watched = 0
                        """, arguments: [userId, episodeId, fraction, playback.pausedAt, playback.pausedAt])
                    changed += db.changesCount
                }
            }
            return changed
        }
    }

    /// A stored episode's id by the show's TMDB id and its numbers.
    static func episodeId(_ db: Database, showTmdbId: Int, season: Int, episode: Int) throws -> Int? {
        try Int.fetchOne(db.cachedStatement(sql: """
            SELECT e.id FROM episode e JOIN season s ON s.id = e.seasonId JOIN tv_show t ON t.id = s.tvShowId
            WHERE t.tmdbId = ? AND s.seasonNumber = ? AND e.episodeNumber = ?
            """), arguments: [showTmdbId, season, episode])
    }

    static func columns(_ title: WatchProgress.Title) -> (String, Int, Int?, Int?) {
        (title.kind, title.tmdbId, title.season, title.episode)
    }
}
