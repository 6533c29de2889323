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

    init(database: AppDatabase, source: any MovieSource, budget: Double, logger: Logger) {
        self.database = database
        self.source = source
        self.budget = budget
        self.logger = logger
    }

    func movie(tmdbId: Int) throws(CatalogFailure) -> Movie {
        let stored = try? database.movie(tmdbId: tmdbId)
        if let stored, stored.detailsComplete { return stored }
        do throws(CatalogError) {
            return try flights.run(tmdbId) { () throws(CatalogError) -> Movie in
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
        } catch {
            switch error {
            case .notFound: throw .notFound
            case .notConfigured: throw .notConfigured
            case .timeout: throw .timeout
            case .upstream, .decode: throw .upstream
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
