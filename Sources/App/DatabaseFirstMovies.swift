import API
import Catalog
import Domain
import Foundation
import Logging
import Persistence

/// Movies database-first (reference internals §4.2): the database answers; on a miss TMDB is
/// asked within `budget` seconds, the answer is stored before it is returned, and concurrent
/// misses for one title share a single upstream call.
final class DatabaseFirstMovies: MovieCatalog, @unchecked Sendable {
    let database: AppDatabase
    let source: any MovieSource
    let budget: Double
    let logger: Logger
    let flights = SingleFlight<Int, Movie>()
    let genreNames: TMDBClient?

    init(database: AppDatabase, source: any MovieSource, budget: Double, logger: Logger, genreNames: TMDBClient? = nil) {
        self.database = database
        self.source = source
        self.budget = budget
        self.logger = logger
        self.genreNames = genreNames
    }

    func movie(tmdbId: Int, language: String) throws(CatalogFailure) -> Movie {
        let movie = try movie(tmdbId: tmdbId)
        guard let names = genreNames, GenreLanguages.needsFetch(movie.genres.map(\.id), language: language, database: database) else {
            return movie
        }
        GenreLanguages.fetch(kind: .movie, language: language, source: names, database: database)
        return (try? database.movie(tmdbId: tmdbId)) ?? movie
    }

    func movie(tmdbId: Int) throws(CatalogFailure) -> Movie {
        let stored = try? database.movie(tmdbId: tmdbId)
        if let stored, stored.detailsComplete { return stored }
        return try CatalogFailure.from { () throws(CatalogError) in
            try flights.run(tmdbId) { () throws(CatalogError) -> Movie in
                if let again = try? self.database.movie(tmdbId: tmdbId), again.detailsComplete { return again }
                let fetched: Movie
                do throws(CatalogError) {
                    fetched = try self.source.movie(tmdbId: tmdbId, budget: self.budget)
                } catch {
                    // A row from a list page is better than an error while TMDB is away.
                    if let stored, error != .notFound { return stored }
                    throw error
                }
                do {
                    _ = try self.database.saveMovie(fetched, now: Date())
                    return try self.database.movie(tmdbId: tmdbId) ?? fetched
                } catch {
                    self.logger.error("cannot store movie", metadata: ["event": "movie_store_error", "tmdb_id": "\(tmdbId)"])
                    throw CatalogError.upstream(status: 0)
                }
            }
        }
    }

    func sources(movieId: Int) throws -> [MovieSourceDTO] {
        try database.movieSources(movieId: movieId).map {
            MovieSourceDTO(id: $0.id, quality: $0.quality, size: $0.size, videoCodec: $0.videoCodec, broadcasters: $0.broadcasters,
                           watchers: $0.watchers, source: $0.releaseType, hasDataFile: $0.hasDataFile)
        }
    }
}

/// Genre names in the languages users ask for (reference §4.6): fetched from TMDB the first
/// time a language is needed, then stored. Best effort: a failure leaves the `en` fallback.
enum GenreLanguages {
    static func base(_ language: String) -> String { String(language.prefix { $0 != "-" && $0 != "_" }).lowercased() }

    static func needsFetch(_ ids: [Int], language: String, database: AppDatabase) -> Bool {
        let base = base(language)
        guard base != "en", !ids.isEmpty else { return false }
        return !((try? database.hasGenreNames(ids, language: base)) ?? true)
    }

    static func fetch(kind: MediaSummary.Kind, language: String, source: TMDBClient, database: AppDatabase) {
        let base = base(language)
        guard let names = try? source.genreNames(kind: kind, language: base, budget: 1.5), !names.isEmpty else { return }
        try? database.storeGenreNames(names, language: base)
    }
}

extension CatalogFailure {
    /// Runs catalog work and maps its errors to what the API answers.
    static func from<T>(_ body: () throws(CatalogError) -> T) throws(CatalogFailure) -> T {
        do throws(CatalogError) {
            return try body()
        } catch {
            switch error {
            case .notFound: throw .notFound
            case .notConfigured: throw .notConfigured
            case .timeout: throw .timeout
            case .upstream, .decode: throw .upstream
            }
        }
    }
}
