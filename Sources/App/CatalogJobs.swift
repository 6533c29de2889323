import Catalog
import Domain
import Foundation
import Logging
import Persistence

/// Catalog job entry points shared by the engine's scheduler and `miauflix catalog`.
public enum CatalogJobs {
    /// Refreshes every built-in list; returns the number of entries stored.
    public static func refreshLists(configuration: Configuration, logger: Logger) throws -> Int {
        let database = try configuration.openDatabase(maximumReaderCount: 1)
        return try refreshLists(database: database, tmdb: configuration.tmdbClient(logger: logger), logger: logger)
    }

    /// Refreshes every list (see `DatabaseFirstLists.listsToRefresh`); returns the entries stored.
    static func refreshLists(database: AppDatabase, tmdb: any ListSource, logger: Logger) throws -> Int {
        var total = 0
        var failed: [String] = []
        for info in DatabaseFirstLists.listsToRefresh(database: database) {
            do {
                total += try DatabaseFirstLists.refresh(info, source: tmdb, database: database)
            } catch {
                // One list TMDB cannot serve must not stop the others.
                failed.append(info.slug)
                logger.warning("list refresh failed", metadata: ["event": "list_refresh_error", "slug": "\(info.slug)"])
            }
        }
        if total == 0 && !failed.isEmpty { throw CatalogError.upstream(status: 0) }
        return total
    }

    /// Season completion (reference §4.5): syncs ONE unsynced season per run — of shows being
    /// watched, or of every show in `GREEDY` mode. Returns the season handled, if any.
    @discardableResult
    public static func completeOneSeason(database: AppDatabase, source: any ShowSource, greedy: Bool) throws -> (Int, Int)? {
        guard let next = try database.nextUnsyncedSeason(greedy: greedy) else { return nil }
        do {
            let season = try source.season(showTmdbId: next.showTmdbId, number: next.number, budget: 10)
            try database.saveSeason(showTmdbId: next.showTmdbId, season, now: Date())
        } catch CatalogError.notFound {
            try database.markSeasonSynced(showTmdbId: next.showTmdbId, number: next.number)
        }
        return (next.showTmdbId, next.number)
    }

    /// Show change sync (reference §4.4): like movies; a changed show we store gets its details
    /// (and season list, so new seasons appear) re-fetched and its latest season marked for
    /// season completion, which is where new episodes land.
    @discardableResult
    public static func syncShowChanges(database: AppDatabase, changes: any ChangeSource, shows: any ShowSource,
                                       now: Date, logger: Logger) throws -> Int {
        let refreshed = try syncChanges(state: "TMDB_TVShows", database: database, now: now,
                                        page: { start, end, page in try changes.showChanges(start: start, end: end, page: page, budget: 10) },
                                        stored: database.storedShowIDs(among:),
                                        refresh: { tmdbId in
                                            try database.saveShow(try shows.show(tmdbId: tmdbId, budget: 10), now: now)
                                            try database.markLatestSeasonUnsynced(showTmdbId: tmdbId)
                                        })
        if refreshed > 0 { logger.info("show changes synced", metadata: ["event": "show_change_sync", "refreshed": "\(refreshed)"]) }
        return refreshed
    }

    /// Movie change sync (reference §4.4): for every one-day UTC window since the last sync
    /// (at most 14 days back), page through TMDB's change feed and re-fetch the details of
    /// changed movies we store; the bookmark moves after every window, so an interrupted run
    /// resumes where it stopped. Returns the number of movies refreshed.
    @discardableResult
    public static func syncMovieChanges(database: AppDatabase, changes: any ChangeSource, movies: any MovieSource,
                                        now: Date, logger: Logger) throws -> Int {
        let refreshed = try syncChanges(state: "TMDB_Movies", database: database, now: now,
                                        page: { start, end, page in try changes.movieChanges(start: start, end: end, page: page, budget: 10) },
                                        stored: database.storedMovieIDs(among:),
                                        refresh: { tmdbId in try database.saveMovie(try movies.movie(tmdbId: tmdbId, budget: 10), now: now) })
        if refreshed > 0 { logger.info("movie changes synced", metadata: ["event": "movie_change_sync", "refreshed": "\(refreshed)"]) }
        return refreshed
    }

    /// The shared walk over a change feed: windows since the bookmark, every page, refresh the
    /// titles we store (a title TMDB no longer has is skipped), move the bookmark per window.
    static func syncChanges(state: String, database: AppDatabase, now: Date,
                            page fetch: (Date, Date, Int) throws -> (ids: [Int], totalPages: Int),
                            stored: ([Int]) throws -> [Int], refresh: (Int) throws -> Void) throws -> Int {
        var refreshed = 0
        for chunk in ChangeWindows.chunks(lastSync: try database.lastSync(state), now: now) {
            var page = 1
            var pages = 1
            while page <= pages {
                let result = try fetch(chunk.start, chunk.end, page)
                pages = min(result.totalPages, 500)
                for tmdbId in try stored(result.ids) {
                    do {
                        try refresh(tmdbId)
                        refreshed += 1
                    } catch CatalogError.notFound {
                        continue
                    }
                }
                page += 1
            }
            try database.setLastSync(state, chunk.end)
        }
        return refreshed
    }
}
