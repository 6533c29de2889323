import Domain
import Foundation
import GRDB

extension AppDatabase {
    /// The stored movie with this TMDB id, with its genres and translations (cached
    /// statements: this is the warm path of `GET /api/movies/:id`).
    public func movie(tmdbId: Int) throws -> Movie? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, tmdbId, imdbId, title, overview, tagline, releaseDate, runtime, poster, backdrop, logo, trailer,
                       popularity, rating, detailsSyncedAt FROM movie WHERE tmdbId = ?
                """), arguments: [tmdbId]) else { return nil }
            let complete = row["detailsSyncedAt"] as DatabaseValue != .null
            let id: Int = row["id"]
            var translations: [String: Movie.Texts] = [:]
            for t in try Row.fetchAll(db.cachedStatement(sql: "SELECT language, title, overview, tagline FROM movie_translation WHERE movieId = ?"),
                                      arguments: [id]) {
                translations[t["language"]] = Movie.Texts(title: t["title"], overview: t["overview"], tagline: t["tagline"])
            }
            var genres: [Int: [String: String]] = [:]
            var order: [Int] = []
            for g in try Row.fetchAll(db.cachedStatement(sql: """
                SELECT mg.genreId, gt.language, gt.name FROM movie_genres_genre mg
                LEFT JOIN genre_translation gt ON gt.genreId = mg.genreId WHERE mg.movieId = ? ORDER BY mg.rowid
                """), arguments: [id]) {
                let genreId: Int = g["genreId"]
                if genres[genreId] == nil { genres[genreId] = [:]; order.append(genreId) }
                if let language: String = g["language"], let name: String = g["name"] { genres[genreId]![language] = name }
            }
            return Movie(id: id, tmdbId: row["tmdbId"], imdbId: row["imdbId"],
                         original: Movie.Texts(title: row["title"], overview: row["overview"], tagline: row["tagline"]),
                         releaseDate: row["releaseDate"], runtime: row["runtime"], poster: row["poster"], backdrop: row["backdrop"],
                         logo: row["logo"], trailer: row["trailer"], popularity: row["popularity"], rating: row["rating"],
                         genres: order.map { Movie.Genre(id: $0, names: genres[$0] ?? [:]) }, translations: translations,
                         detailsComplete: complete)
        }
    }

    /// Stores (inserts or refreshes) a movie with its translations and genres in one
    /// transaction, and returns it as stored (with its internal id).
    @discardableResult
    public func saveMovie(_ movie: Movie, now: Date) throws -> Movie {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO movie (tmdbId, imdbId, title, overview, runtime, tagline, trailer, rating, popularity, releaseDate,
                                   poster, backdrop, logo, createdAt, updatedAt, detailsSyncedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(tmdbId) DO UPDATE SET imdbId = excluded.imdbId, title = excluded.title, overview = excluded.overview,
                    runtime = excluded.runtime, tagline = excluded.tagline, trailer = excluded.trailer, rating = excluded.rating,
                    popularity = excluded.popularity, releaseDate = excluded.releaseDate, poster = excluded.poster,
                    backdrop = excluded.backdrop, logo = excluded.logo, updatedAt = excluded.updatedAt,
                    detailsSyncedAt = excluded.detailsSyncedAt
                """, arguments: [movie.tmdbId, movie.imdbId, movie.original.title, movie.original.overview, movie.runtime,
                                 movie.original.tagline, movie.trailer, movie.rating, movie.popularity, movie.releaseDate,
                                 movie.poster, movie.backdrop, movie.logo, now, now, now])
            let id = try Int.fetchOne(db, sql: "SELECT id FROM movie WHERE tmdbId = ?", arguments: [movie.tmdbId]) ?? 0
            for (language, texts) in movie.translations {
                try db.execute(sql: """
                    INSERT INTO movie_translation (language, movieId, overview, title, tagline, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(movieId, language) DO UPDATE SET overview = excluded.overview, title = excluded.title,
                        tagline = excluded.tagline, updatedAt = excluded.updatedAt
                    """, arguments: [language, id, texts.overview, texts.title, texts.tagline, now, now])
            }
            try db.execute(sql: "DELETE FROM movie_genres_genre WHERE movieId = ?", arguments: [id])
            for genre in movie.genres {
                try db.execute(sql: "INSERT OR IGNORE INTO genre (id) VALUES (?)", arguments: [genre.id])
                for (language, name) in genre.names {
                    try db.execute(sql: """
                        INSERT INTO genre_translation (genreId, name, language) VALUES (?, ?, ?)
                        ON CONFLICT(genreId, language) DO UPDATE SET name = excluded.name
                        """, arguments: [genre.id, name, language])
                }
                try db.execute(sql: "INSERT OR IGNORE INTO movie_genres_genre (movieId, genreId) VALUES (?, ?)", arguments: [id, genre.id])
            }
            var stored = movie
            stored.id = id
            return stored
        }
    }
}
