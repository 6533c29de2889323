import API
import Catalog
import Domain
import Foundation
import Logging
import Persistence

/// Shows and seasons database-first, like `DatabaseFirstMovies`: a season is fetched from TMDB
/// the first time it is opened (or by the season-completion job) and served from the database
/// afterwards.
final class DatabaseFirstShows: ShowCatalog, @unchecked Sendable {
    let database: AppDatabase
    let source: any ShowSource
    let budget: Double
    let showFlights = SingleFlight<Int, Show>()
    let seasonFlights = SingleFlight<String, Season>()

    let genreNames: TMDBClient?

    init(database: AppDatabase, source: any ShowSource, budget: Double, genreNames: TMDBClient? = nil) {
        self.database = database
        self.source = source
        self.budget = budget
        self.genreNames = genreNames
    }

    func show(tmdbId: Int, language: String) throws(CatalogFailure) -> Show {
        let show = try show(tmdbId: tmdbId)
        guard let names = genreNames, GenreLanguages.needsFetch(show.genres.map(\.id), language: language, database: database) else {
            return show
        }
        GenreLanguages.fetch(kind: .show, language: language, source: names, database: database)
        return (try? database.show(tmdbId: tmdbId)) ?? show
    }

    func show(tmdbId: Int) throws(CatalogFailure) -> Show {
        let stored = try? database.show(tmdbId: tmdbId)
        if let stored, stored.detailsComplete {
            try? database.markWatching(showTmdbId: tmdbId)
            return stored
        }
        defer { try? database.markWatching(showTmdbId: tmdbId) }
        return try CatalogFailure.from { () throws(CatalogError) in
            try showFlights.run(tmdbId) { () throws(CatalogError) -> Show in
                if let again = try? self.database.show(tmdbId: tmdbId), again.detailsComplete { return again }
                let fetched: Show
                do throws(CatalogError) {
                    fetched = try self.source.show(tmdbId: tmdbId, budget: self.budget)
                } catch {
                    if let stored, error != .notFound { return stored }
                    throw error
                }
                do { try self.database.saveShow(fetched, now: Date()) } catch { throw .upstream(status: 0) }
                return (try? self.database.show(tmdbId: tmdbId)) ?? fetched
            }
        }
    }

    func season(showTmdbId: Int, number: Int) throws(CatalogFailure) -> Season {
        let show = try show(tmdbId: showTmdbId)
        guard show.seasons.contains(where: { $0.seasonNumber == number }) else { throw .notFound }
        if let stored = try? database.season(showTmdbId: showTmdbId, number: number) { return stored }
        return try CatalogFailure.from { () throws(CatalogError) in
            try seasonFlights.run("\(showTmdbId)/\(number)") { () throws(CatalogError) -> Season in
                if let again = try? self.database.season(showTmdbId: showTmdbId, number: number) { return again }
                let fetched = try self.source.season(showTmdbId: showTmdbId, number: number, budget: self.budget)
                do { try self.database.saveSeason(showTmdbId: showTmdbId, fetched, now: Date()) } catch { throw .upstream(status: 0) }
                return (try? self.database.season(showTmdbId: showTmdbId, number: number)) ?? fetched
            }
        }
    }
}
