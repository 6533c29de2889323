import Domain
import Foundation
import GRDB

extension AppDatabase {
    /// The bookmark of a background sync (`sync_state`).
    public func lastSync(_ name: String) throws -> Date? {
        try writer.read { db in try Date.fetchOne(db, sql: "SELECT lastSync FROM sync_state WHERE name = ?", arguments: [name]) }
    }

    /// Moves a sync bookmark.
    public func setLastSync(_ name: String, _ date: Date) throws {
        try writer.write { db in
            try db.execute(sql: "INSERT INTO sync_state (name, lastSync) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET lastSync = excluded.lastSync",
                           arguments: [name, date])
        }
    }

    /// Which of these TMDB movie ids are stored with details.
    public func storedMovieIDs(among ids: [Int]) throws -> [Int] {
        guard !ids.isEmpty else { return [] }
        return try writer.read { db in
            try Int.fetchAll(db, sql: "SELECT tmdbId FROM movie WHERE detailsSyncedAt IS NOT NULL AND tmdbId IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                             arguments: StatementArguments(ids))
        }
    }

    /// Which of these TMDB show ids are stored with details.
    public func storedShowIDs(among ids: [Int]) throws -> [Int] {
        guard !ids.isEmpty else { return [] }
        return try writer.read { db in
            try Int.fetchAll(db, sql: "SELECT tmdbId FROM tv_show WHERE detailsSyncedAt IS NOT NULL AND tmdbId IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                             arguments: StatementArguments(ids))
        }
    }

    /// Marks a show's latest season unsynced, so season completion fetches its new episodes.
    public func markLatestSeasonUnsynced(showTmdbId: Int) throws {
        try writer.write { db in
            try db.execute(sql: """
                UPDATE season SET synced = 0 WHERE id = (
                    SELECT s.id FROM season s JOIN tv_show t ON t.id = s.tvShowId WHERE t.tmdbId = ? ORDER BY s.seasonNumber DESC LIMIT 1)
                """, arguments: [showTmdbId])
        }
    }

    /// Flags a show as being watched (its seasons are then completed in ON_DEMAND mode).
    /// Takes the TMDB id and looks the row up (the original passed it as the internal id).
    public func markWatching(showTmdbId: Int) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE tv_show SET watching = 1 WHERE tmdbId = ? AND watching = 0", arguments: [showTmdbId])
        }
    }

    /// One season still to sync: (show TMDB id, season number), in show then season order.
    /// `greedy` considers every show, otherwise only shows being watched.
    public func nextUnsyncedSeason(greedy: Bool) throws -> (showTmdbId: Int, number: Int)? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT t.tmdbId, s.seasonNumber FROM season s JOIN tv_show t ON t.id = s.tvShowId
                WHERE s.synced = 0 AND (? OR t.watching = 1) ORDER BY t.id, s.seasonNumber LIMIT 1
                """, arguments: [greedy]) else { return nil }
            return (row["tmdbId"], row["seasonNumber"])
        }
    }

    /// Marks a season synced without episodes (TMDB has no such season any more).
    public func markSeasonSynced(showTmdbId: Int, number: Int) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE season SET synced = 1 WHERE seasonNumber = ? AND tvShowId = (SELECT id FROM tv_show WHERE tmdbId = ?)",
                           arguments: [number, showTmdbId])
        }
    }
}
