import Domain
import Foundation
import GRDB

extension AppDatabase {
    /// Titles whose name (original or any translation) contains `query`, most popular first.
    /// `LIKE` wildcards in the query are escaped, so user input is plain data.
    public func searchTitles(_ query: String, kinds: Set<MediaSummary.Kind>, limit: Int, offset: Int) throws -> [MediaSummary] {
        let escaped = query.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        let pattern = "%\(escaped)%"
        return try writer.read { db in
            var results: [MediaSummary] = []
            if kinds.contains(.movie) {
                results += try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT id, tmdbId, imdbId, title, overview, tagline, poster, backdrop, logo, popularity, rating, releaseDate, runtime,
                           createdAt, updatedAt FROM movie
                    WHERE title LIKE ? ESCAPE '\\' OR id IN (SELECT movieId FROM movie_translation WHERE title LIKE ? ESCAPE '\\')
                    ORDER BY popularity DESC LIMIT ? OFFSET ?
                    """), arguments: [pattern, pattern, limit + offset, 0]).map {
                    MediaSummary(kind: .movie, id: $0["id"], tmdbId: $0["tmdbId"], imdbId: $0["imdbId"], title: $0["title"],
                                 overview: $0["overview"], tagline: $0["tagline"], poster: $0["poster"], backdrop: $0["backdrop"],
                                 logo: $0["logo"], popularity: $0["popularity"], rating: $0["rating"], date: $0["releaseDate"],
                                 runtime: $0["runtime"], genres: [], createdAt: $0["createdAt"], updatedAt: $0["updatedAt"])
                }
            }
            if kinds.contains(.show) {
                results += try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT id, tmdbId, imdbId, name, overview, tagline, poster, backdrop, popularity, rating, firstAirDate, type,
                           inProduction, createdAt, updatedAt FROM tv_show
                    WHERE name LIKE ? ESCAPE '\\' OR id IN (SELECT tvShowId FROM tv_show_translation WHERE name LIKE ? ESCAPE '\\')
                    ORDER BY popularity DESC LIMIT ? OFFSET ?
                    """), arguments: [pattern, pattern, limit + offset, 0]).map {
                    MediaSummary(kind: .show, id: $0["id"], tmdbId: $0["tmdbId"], imdbId: $0["imdbId"], title: $0["name"],
                                 overview: $0["overview"], tagline: $0["tagline"], poster: $0["poster"], backdrop: $0["backdrop"],
                                 popularity: $0["popularity"], rating: $0["rating"], date: ($0["firstAirDate"] as String?) ?? "",
                                 showType: $0["type"], inProduction: $0["inProduction"], genres: [],
                                 createdAt: $0["createdAt"], updatedAt: $0["updatedAt"])
                }
            }
            return Array(results.sorted { $0.popularity > $1.popularity }.dropFirst(offset).prefix(limit))
        }
    }
}
