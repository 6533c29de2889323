import Foundation
import GRDB

/// One title's watch progress as a player reported it.
public struct WatchProgress: Sendable, Equatable {
    /// A movie (its TMDB id) or an episode (show TMDB id, season, episode).
    public enum Title: Sendable, Equatable, Hashable {
        case movie(tmdbId: Int)
        case episode(showTmdbId: Int, season: Int, episode: Int)
    }

    public var title: Title
    public var positionSeconds: Double
    public var durationSeconds: Double
    /// 0…1.
    public var fraction: Double
    public var status: String
    public var watched: Bool
    public var updatedAt: Date

    /// Creates a value.
    public init(title: Title, positionSeconds: Double, durationSeconds: Double, fraction: Double, status: String, watched: Bool, updatedAt: Date) {
        self.title = title
        self.positionSeconds = positionSeconds
        self.durationSeconds = durationSeconds
        self.fraction = fraction
        self.status = status
        self.watched = watched
        self.updatedAt = updatedAt
    }
}

extension WatchProgress.Title {
    /// `movie` or `episode`.
    public var kind: String { if case .movie = self { return "movie" } else { return "episode" } }
    /// The movie's or the show's TMDB id.
    public var tmdbId: Int {
        switch self {
        case let .movie(tmdbId): return tmdbId
        case let .episode(show, _, _): return show
        }
    }
    public var season: Int? { if case let .episode(_, season, _) = self { return season } else { return nil } }
    public var episode: Int? { if case let .episode(_, _, episode) = self { return episode } else { return nil } }
}

/// A title's progress before a report (nil status: never reported).
public struct ProgressBefore: Sendable, Equatable {
    public var status: String?
    public var watched: Bool
}

/// A Continue Watching entry: a partly watched movie, or a show's episode to play next
/// (the one being watched, or the one after the last finished).
public struct ContinueWatchingEntry: Sendable, Equatable {
    public var title: WatchProgress.Title
    /// Movie title or show name.
    public var name: String
    public var poster: String
    public var backdrop: String
    /// The episode's name and still (episodes only).
    public var episodeName: String?
    public var still: String?
    /// Where to resume (0 for a next episode not started).
    public var positionSeconds: Double
    public var durationSeconds: Double
    public var fraction: Double
    /// True when this is the episode after the last finished one.
    public var isNextEpisode: Bool
    public var updatedAt: Date
}

extension AppDatabase {
    /// Records a movie's progress (one upsert: players call this every few seconds).
    /// `watched` once set stays set (re-watching the start must not un-watch a film).
    /// Returns what was stored before (nil status: the first report).
    @discardableResult
    public func saveMovieProgress(userId: String, movieId: Int, position: Double, duration: Double, fraction: Double,
                                  status: String, watched: Bool, now: Date) throws -> ProgressBefore {
        try writer.write { db in
            let before = try Row.fetchOne(db.cachedStatement(sql: "SELECT status, watched FROM progress_movie WHERE userId = ? AND movieId = ?"),
                                          arguments: [userId, movieId])
            try db.cachedStatement(sql: """
                INSERT INTO progress_movie (userId, movieId, positionSeconds, durationSeconds, fraction, status, watched, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(userId, movieId) DO UPDATE SET positionSeconds = excluded.positionSeconds,
                    durationSeconds = excluded.durationSeconds, fraction = excluded.fraction, status = excluded.status,
                    watched = watched OR excluded.watched, updatedAt = excluded.updatedAt
                """).execute(arguments: [userId, movieId, position, duration, fraction, status, watched, now, now])
            return ProgressBefore(status: before?["status"], watched: before?["watched"] ?? false)
        }
    }

    /// Records an episode's progress; nil when the episode is not stored, else what was
    /// stored before. The show is
    /// marked as being watched, so season completion fetches its other seasons (where the
    /// next episode comes from).
    @discardableResult
    public func saveEpisodeProgress(userId: String, showTmdbId: Int, season: Int, episode: Int, position: Double, duration: Double,
                                    fraction: Double, status: String, watched: Bool, now: Date) throws -> ProgressBefore? {
        try writer.write { db in
            guard let found = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT e.id, t.id AS showRowId FROM episode e JOIN season s ON s.id = e.seasonId JOIN tv_show t ON t.id = s.tvShowId
                WHERE t.tmdbId = ? AND s.seasonNumber = ? AND e.episodeNumber = ?
                """), arguments: [showTmdbId, season, episode]) else { return nil }
            let episodeId: Int = found["id"]
            let before = try Row.fetchOne(db.cachedStatement(sql: "SELECT status, watched FROM progress_episode WHERE userId = ? AND episodeId = ?"),
                                          arguments: [userId, episodeId])
            try db.cachedStatement(sql: "UPDATE tv_show SET watching = 1 WHERE id = ? AND watching = 0").execute(arguments: [found["showRowId"]])
            try db.cachedStatement(sql: """
                INSERT INTO progress_episode (userId, episodeId, positionSeconds, durationSeconds, fraction, status, watched, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(userId, episodeId) DO UPDATE SET positionSeconds = excluded.positionSeconds,
                    durationSeconds = excluded.durationSeconds, fraction = excluded.fraction, status = excluded.status,
                    watched = watched OR excluded.watched, updatedAt = excluded.updatedAt
                """).execute(arguments: [userId, episodeId, position, duration, fraction, status, watched, now, now])
            return ProgressBefore(status: before?["status"], watched: before?["watched"] ?? false)
        }
    }

    /// A user's progress, most recent first; optionally one movie or one show only.
    public func watchProgress(userId: String, movieTmdbId: Int? = nil, showTmdbId: Int? = nil, limit: Int = 500) throws -> [WatchProgress] {
        try writer.read { db in
            var items: [WatchProgress] = []
            if showTmdbId == nil {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT m.tmdbId, p.positionSeconds, p.durationSeconds, p.fraction, p.status, p.watched, p.updatedAt
                    FROM progress_movie p JOIN movie m ON m.id = p.movieId
                    WHERE p.userId = ? AND (? IS NULL OR m.tmdbId = ?) ORDER BY p.updatedAt DESC LIMIT ?
                    """, arguments: [userId, movieTmdbId, movieTmdbId, limit])
                items += rows.map { Self.progress(.movie(tmdbId: $0["tmdbId"]), $0) }
            }
            if movieTmdbId == nil {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT t.tmdbId, s.seasonNumber, e.episodeNumber, p.positionSeconds, p.durationSeconds, p.fraction, p.status,
                           p.watched, p.updatedAt
                    FROM progress_episode p JOIN episode e ON e.id = p.episodeId JOIN season s ON s.id = e.seasonId
                    JOIN tv_show t ON t.id = s.tvShowId
                    WHERE p.userId = ? AND (? IS NULL OR t.tmdbId = ?) ORDER BY p.updatedAt DESC LIMIT ?
                    """, arguments: [userId, showTmdbId, showTmdbId, limit])
                items += rows.map { Self.progress(.episode(showTmdbId: $0["tmdbId"], season: $0["seasonNumber"], episode: $0["episodeNumber"]), $0) }
            }
            return Array(items.sorted { $0.updatedAt > $1.updatedAt }.prefix(limit))
        }
    }

    static func progress(_ title: WatchProgress.Title, _ row: Row) -> WatchProgress {
        WatchProgress(title: title, positionSeconds: row["positionSeconds"], durationSeconds: row["durationSeconds"],
                      fraction: row["fraction"], status: row["status"], watched: row["watched"], updatedAt: row["updatedAt"])
    }
}

extension AppDatabase {
    /// Continue Watching, most recent first: movies started and not finished, and for each
    /// show the episode to play next — the last one touched if it is unfinished, else the
    /// first aired episode after it the user has not watched (specials left out). A show
    /// whose next episode is not known yet (season not synced, not aired) is left out.
    public func continueWatching(userId: String, today: String, limit: Int = 20) throws -> [ContinueWatchingEntry] {
        try writer.read { db in
            var entries = try Row.fetchAll(db, sql: """
                SELECT m.tmdbId, m.title, m.poster, m.backdrop, p.positionSeconds, p.durationSeconds, p.fraction, p.updatedAt
                FROM progress_movie p JOIN movie m ON m.id = p.movieId
                WHERE p.userId = ? AND p.watched = 0 AND (p.fraction >= 0.01 OR p.positionSeconds >= 30)
                ORDER BY p.updatedAt DESC LIMIT ?
                """, arguments: [userId, limit]).map { row in
                ContinueWatchingEntry(title: .movie(tmdbId: row["tmdbId"]), name: row["title"], poster: row["poster"], backdrop: row["backdrop"],
                                      episodeName: nil, still: nil, positionSeconds: row["positionSeconds"], durationSeconds: row["durationSeconds"],
                                      fraction: row["fraction"], isNextEpisode: false, updatedAt: row["updatedAt"])
            }
            // The latest episode touched per show (the window picks one row per show).
            let latest = try Row.fetchAll(db, sql: """
                SELECT * FROM (
                    SELECT t.id AS showRowId, t.tmdbId, t.name, t.poster, t.backdrop, s.seasonNumber, e.episodeNumber,
                           e.name AS episodeName, e.stillPath, p.positionSeconds, p.durationSeconds, p.fraction, p.watched, p.updatedAt,
                           ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY p.updatedAt DESC, p.id DESC) AS rank
                    FROM progress_episode p JOIN episode e ON e.id = p.episodeId JOIN season s ON s.id = e.seasonId
                    JOIN tv_show t ON t.id = s.tvShowId
                    WHERE p.userId = ?)
                WHERE rank = 1 ORDER BY updatedAt DESC LIMIT ?
                """, arguments: [userId, limit])
            for row in latest {
                let show: Int = row["tmdbId"]
                if !(row["watched"] as Bool) {
                    entries.append(ContinueWatchingEntry(
                        title: .episode(showTmdbId: show, season: row["seasonNumber"], episode: row["episodeNumber"]), name: row["name"],
                        poster: row["poster"], backdrop: row["backdrop"], episodeName: row["episodeName"], still: row["stillPath"],
                        positionSeconds: row["positionSeconds"], durationSeconds: row["durationSeconds"], fraction: row["fraction"],
                        isNextEpisode: false, updatedAt: row["updatedAt"]))
                    continue
                }
                let season: Int = row["seasonNumber"], episode: Int = row["episodeNumber"]
                guard let next = try Row.fetchOne(db, sql: """
                    SELECT s.seasonNumber, e.episodeNumber, e.name, e.stillPath FROM episode e JOIN season s ON s.id = e.seasonId
                    WHERE s.tvShowId = ? AND s.seasonNumber > 0 AND (s.seasonNumber > ? OR (s.seasonNumber = ? AND e.episodeNumber > ?))
                      AND (e.airDate IS NULL OR e.airDate = '' OR e.airDate <= ?)
                      AND e.id NOT IN (SELECT episodeId FROM progress_episode WHERE userId = ? AND watched = 1)
                    ORDER BY s.seasonNumber, e.episodeNumber LIMIT 1
                    """, arguments: [row["showRowId"], season, season, episode, today, userId]) else { continue }
                entries.append(ContinueWatchingEntry(
                    title: .episode(showTmdbId: show, season: next["seasonNumber"], episode: next["episodeNumber"]), name: row["name"],
                    poster: row["poster"], backdrop: row["backdrop"], episodeName: next["name"], still: next["stillPath"],
                    positionSeconds: 0, durationSeconds: 0, fraction: 0, isNextEpisode: true, updatedAt: row["updatedAt"]))
            }
            return Array(entries.sorted { $0.updatedAt > $1.updatedAt }.prefix(limit))
        }
    }
}

extension AppDatabase {
    /// The internal id of a stored movie (one indexed read).
    public func movieRowId(tmdbId: Int) throws -> Int? {
        try writer.read { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT id FROM movie WHERE tmdbId = ?"), arguments: [tmdbId]) }
    }
}
