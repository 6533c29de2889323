import Foundation
import GRDB

/// A source found by a content directory, its identifying fields already encrypted.
public struct DiscoveredSource: Sendable {
    public var encryptedInfoHash: String
    public var encryptedMagnet: String
    public var encryptedURL: String?
    public var quality: Int?
    public var videoCodec: Int?
    public var releaseType: Int?
    public var size: Int64
    public var seeders: Int?
    public var leechers: Int?
    public var provider: String
    public var uploadedAt: Date?
    public var streamingScore: Int

    public init(encryptedInfoHash: String, encryptedMagnet: String, encryptedURL: String?, quality: Int?, videoCodec: Int?,
                releaseType: Int?, size: Int64, seeders: Int?, leechers: Int?, provider: String, uploadedAt: Date?, streamingScore: Int) {
        self.encryptedInfoHash = encryptedInfoHash
        self.encryptedMagnet = encryptedMagnet
        self.encryptedURL = encryptedURL
        self.quality = quality
        self.videoCodec = videoCodec
        self.releaseType = releaseType
        self.size = size
        self.seeders = seeders
        self.leechers = leechers
        self.provider = provider
        self.uploadedAt = uploadedAt
        self.streamingScore = streamingScore
    }
}

/// A movie the discovery job should search.
public struct SearchTarget: Sendable, Equatable {
    public var movieId: Int
    public var imdbId: String
    public var runtime: Int
}

/// A source whose .torrent is still missing.
public struct MissingFile: Sendable {
    public var id: Int
    public var encryptedInfoHash: String
    public var encryptedURL: String?
    public var attempts: Int
}

/// A source due for a tracker scrape.
public struct StatsTarget: Sendable {
    public var id: Int
    public var encryptedInfoHash: String
    public var seeders: Int?
    public var leechers: Int?
    public var lastCheck: Date?
    public var nextCheck: Date?
    public var quality: Int?
    public var videoCodec: Int?
    public var releaseType: Int?
    public var size: Int64
}

extension AppDatabase {
    /// The next movie to search: never searched first, then due for a re-search; most
    /// popular first. Only movies with an IMDb id (directories match on it).
    public func nextSearchTarget(now: Date) throws -> SearchTarget? {
        try writer.read { db in
            try Row.fetchOne(db, sql: """
                SELECT id, imdbId, runtime FROM movie WHERE imdbId IS NOT NULL AND imdbId != '' AND nextSourceSearchAt <= ?
                ORDER BY contentDirectoriesSearched = '[]' DESC, popularity DESC, id LIMIT 1
                """, arguments: [now]).map { SearchTarget(movieId: $0["id"], imdbId: $0["imdbId"], runtime: $0["runtime"]) }
        }
    }

    /// A movie known only from a list (no IMDb id yet) that is due for a search: its details
    /// must be fetched first (directories match on the IMDb id).
    public func nextMovieWithoutImdb(now: Date) throws -> (movieId: Int, tmdbId: Int)? {
        try writer.read { db in
            try Row.fetchOne(db, sql: """
                SELECT id, tmdbId FROM movie WHERE (imdbId IS NULL OR imdbId = '') AND nextSourceSearchAt <= ?
                ORDER BY popularity DESC, id LIMIT 1
                """, arguments: [now]).map { ($0["id"], $0["tmdbId"]) }
        }
    }

    /// Records a movie's IMDb id (from its details), or postpones it when TMDB has none.
    public func setImdb(movieId: Int, imdbId: String?, retryAt: Date) throws {
        try writer.write { db in
            if let imdbId, !imdbId.isEmpty {
                let taken = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM movie WHERE imdbId = ? AND id != ?", arguments: [imdbId, movieId]) ?? 0
                if taken == 0 {
                    try db.execute(sql: "UPDATE movie SET imdbId = ? WHERE id = ?", arguments: [imdbId, movieId])
                    return
                }
            }
            try db.execute(sql: "UPDATE movie SET nextSourceSearchAt = ? WHERE id = ?", arguments: [retryAt, movieId])
        }
    }

    /// The movie's search target by id (on-demand search).
    public func searchTarget(movieId: Int) throws -> SearchTarget? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT id, imdbId, runtime FROM movie WHERE id = ? AND imdbId IS NOT NULL AND imdbId != ''",
                             arguments: [movieId]).map { SearchTarget(movieId: $0["id"], imdbId: $0["imdbId"], runtime: $0["runtime"]) }
        }
    }

    /// Saves what a search found in one transaction: new sources are inserted, known ones
    /// (same deterministic hash) get fresh seeders/leechers/score; the movie records which
    /// directories answered, when to search again, and a trailer if it had none. Returns the
    /// number of new sources.
    @discardableResult
    public func saveSearch(movieId: Int, sources: [DiscoveredSource], directories: [String], trailer: String?,
                           nextSearchAt: Date, now: Date) throws -> Int {
        try writer.write { db in
            var added = 0
            for source in sources {
                let existing = try Int.fetchOne(db, sql: "SELECT id FROM movie_source WHERE movieId = ? AND ih = ?",
                                                arguments: [movieId, source.encryptedInfoHash])
                if let existing {
                    try db.execute(sql: """
                        UPDATE movie_source SET broadcasters = COALESCE(?, broadcasters), watchers = COALESCE(?, watchers),
                            streamingScore = ?, updatedAt = ? WHERE id = ?
                        """, arguments: [source.seeders, source.leechers, source.streamingScore, now, existing])
                    continue
                }
                try db.execute(sql: """
                    INSERT INTO movie_source (movieId, ih, ml, u, quality, size, videoCodec, broadcasters, watchers, source, sourceType,
                        sourceUploadedAt, streamingScore, nextStatsCheckAt, nextFileAttemptAt, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [movieId, source.encryptedInfoHash, source.encryptedMagnet, source.encryptedURL, source.quality, source.size,
                                     source.videoCodec, source.seeders, source.leechers, source.provider, source.releaseType,
                                     source.uploadedAt, source.streamingScore, now, now, now, now])
                added += 1
            }
            let searched = try String.fetchOne(db, sql: "SELECT contentDirectoriesSearched FROM movie WHERE id = ?", arguments: [movieId]) ?? "[]"
            var list = (try? JSONDecoder().decode([String].self, from: Data(searched.utf8))) ?? []
            for directory in directories where !list.contains(directory) { list.append(directory) }
            let encoded = String(decoding: (try? JSONEncoder().encode(list)) ?? Data("[]".utf8), as: UTF8.self)
            try db.execute(sql: """
                UPDATE movie SET contentDirectoriesSearched = ?, nextSourceSearchAt = ?,
                    trailer = CASE WHEN (trailer IS NULL OR trailer = '') AND ? IS NOT NULL THEN ? ELSE trailer END, updatedAt = ?
                WHERE id = ?
                """, arguments: [encoded, nextSearchAt, trailer, trailer, now, movieId])
            return added
        }
    }

    /// Sources still without a .torrent whose next attempt is due, most promising first
    /// (seeders, then quality); 3D sources are skipped.
    public func sourcesMissingFiles(now: Date, limit: Int) throws -> [MissingFile] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, ih, u, fileAttempts FROM movie_source
                WHERE file IS NULL AND (quality IS NULL OR quality != 6) AND COALESCE(nextFileAttemptAt, createdAt) <= ?
                ORDER BY COALESCE(broadcasters, 0) > 0 DESC, streamingScore DESC, id LIMIT ?
                """, arguments: [now, limit]).map { MissingFile(id: $0["id"], encryptedInfoHash: $0["ih"], encryptedURL: $0["u"], attempts: $0["fileAttempts"]) }
        }
    }

    /// A source's encrypted magnet link.
    public func sourceMagnet(id: Int) throws -> String? {
        try writer.read { db in try String.fetchOne(db, sql: "SELECT ml FROM movie_source WHERE id = ?", arguments: [id]) }
    }

    /// A failed .torrent fetch: the next attempt waits longer each time.
    public func fileAttemptFailed(id: Int, nextAttemptAt: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE movie_source SET fileAttempts = fileAttempts + 1, nextFileAttemptAt = ? WHERE id = ?",
                           arguments: [nextAttemptAt, id])
        }
    }

    /// Stores a fetched (verified) .torrent and drops the direct URL (reference §3.6).
    public func storeFetchedTorrent(id: Int, encryptedFile: Data, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE movie_source SET file = ?, u = NULL, updatedAt = ? WHERE id = ? AND file IS NULL",
                           arguments: [encryptedFile, now, id])
        }
    }

    /// Up to `limit` sources due for a tracker scrape, oldest first.
    public func sourcesDueForStats(now: Date, limit: Int) throws -> [StatsTarget] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, ih, broadcasters, watchers, lastStatsCheck, nextStatsCheckAt, quality, videoCodec, sourceType, size
                FROM movie_source WHERE nextStatsCheckAt <= ? ORDER BY nextStatsCheckAt LIMIT ?
                """, arguments: [now, limit]).map { row in
                StatsTarget(id: row["id"], encryptedInfoHash: row["ih"], seeders: row["broadcasters"], leechers: row["watchers"],
                            lastCheck: row["lastStatsCheck"], nextCheck: row["nextStatsCheckAt"], quality: row["quality"],
                            videoCodec: row["videoCodec"], releaseType: row["sourceType"], size: row["size"])
            }
        }
    }

    /// Records a scrape (or a failed one: counts unchanged, next check still moved on).
    public func saveStats(id: Int, seeders: Int?, leechers: Int?, streamingScore: Int?, nextCheck: Date, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: """
                UPDATE movie_source SET broadcasters = COALESCE(?, broadcasters), watchers = COALESCE(?, watchers),
                    streamingScore = COALESCE(?, streamingScore), lastStatsCheck = ?, nextStatsCheckAt = ?, updatedAt = ? WHERE id = ?
                """, arguments: [seeders, leechers, streamingScore, now, nextCheck, now, id])
        }
    }
}

extension AppDatabase {
    /// Source resync (reference's 7 tasks): a source that has had no seeders for 30 days and
    /// no stored .torrent, that no download uses, is retired. Returns how many.
    @discardableResult
    public func retireStaleSources(now: Date, limit: Int) throws -> Int {
        try writer.write { db in
            try db.execute(sql: """
                DELETE FROM movie_source WHERE id IN (
                    SELECT id FROM movie_source WHERE file IS NULL AND COALESCE(broadcasters, 0) = 0 AND lastStatsCheck IS NOT NULL
                        AND createdAt < ? AND id NOT IN (SELECT movieSourceId FROM storage) AND source != 'MANUAL' LIMIT ?)
                """, arguments: [now.addingTimeInterval(-30 * 86400), limit])
            return db.changesCount
        }
    }

    /// One finished job run.
    public func recordJobRun(job: String, startedAt: Date, duration: Double, succeeded: Bool, items: Int, error: String?) throws {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO job_run (job, startedAt, finishedAt, status, itemsProcessed, error) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [String(job.prefix(64)), startedAt, startedAt.addingTimeInterval(duration), succeeded ? "success" : "failure",
                                 items, error.map { String($0.prefix(500)) }])
        }
    }

    /// The latest runs of a job, newest first.
    public func jobRuns(job: String, limit: Int) throws -> [(startedAt: Date, finishedAt: Date?, status: String, items: Int, error: String?)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM job_run WHERE job = ? ORDER BY id DESC LIMIT ?", arguments: [job, limit]).map {
                ($0["startedAt"], $0["finishedAt"], $0["status"], $0["itemsProcessed"], $0["error"])
            }
        }
    }

    /// Bounded history: keeps the newest `keepPerJob` runs of each job.
    public func trimJobRuns(keepPerJob: Int) throws {
        try writer.write { db in
            try db.execute(sql: """
                DELETE FROM job_run WHERE id IN (
                    SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY job ORDER BY id DESC) AS rank FROM job_run) WHERE rank > ?)
                """, arguments: [keepPerJob])
        }
    }

    /// VACUUM when a quarter of the file is free pages (after large deletions).
    public func vacuumIfWorthwhile() throws {
        let (free, total) = try writer.read { db in
            (try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0, try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0)
        }
        guard total > 1000, free * 4 > total else { return }
        try writer.vacuum()
    }
}
