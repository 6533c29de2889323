import Domain
import Foundation
import GRDB

extension AppDatabase {
    /// Stores list-page summaries (creating rows for new titles, refreshing popularity,
    /// rating and images of known ones) and replaces the list's membership, all in ONE
    /// transaction so a list never appears empty or half-synced (reference §4.3).
    public func replaceList(_ info: MediaListInfo, items: [MediaSummary], now: Date) throws {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO media_list (name, slug, description) VALUES (?, ?, ?)
                ON CONFLICT(slug) DO UPDATE SET name = excluded.name, description = excluded.description
                """, arguments: [info.name, info.slug, info.description])
            let listId = try Int.fetchOne(db, sql: "SELECT id FROM media_list WHERE slug = ?", arguments: [info.slug]) ?? 0
            let joinTable = info.kind == .movie ? "media_list_movies_movie" : "media_list_tv_shows_tv_show"
            let joinColumn = info.kind == .movie ? "movieId" : "tvShowId"
            try db.execute(sql: "DELETE FROM \(joinTable) WHERE mediaListId = ?", arguments: [listId])
            var seen = Set<Int>()
            for (position, item) in items.enumerated() where seen.insert(item.tmdbId).inserted {
                let id = item.kind == .movie ? try Self.upsertMovieSummary(db, item, now: now) : try Self.upsertShowSummary(db, item, now: now)
                try Self.storeGenres(db, item.genres, kind: item.kind, titleId: id)
                try db.execute(sql: "INSERT OR IGNORE INTO \(joinTable) (mediaListId, \(joinColumn), position) VALUES (?, ?, ?)",
                               arguments: [listId, id, position])
            }
        }
    }

    static func upsertMovieSummary(_ db: Database, _ item: MediaSummary, now: Date) throws -> Int {
        try db.execute(sql: """
            INSERT INTO movie (tmdbId, title, overview, popularity, rating, releaseDate, poster, backdrop, createdAt, updatedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(tmdbId) DO UPDATE SET popularity = excluded.popularity, rating = excluded.rating,
                poster = CASE WHEN excluded.poster <> '' THEN excluded.poster ELSE movie.poster END,
                backdrop = CASE WHEN excluded.backdrop <> '' THEN excluded.backdrop ELSE movie.backdrop END,
                title = CASE WHEN movie.detailsSyncedAt IS NULL THEN excluded.title ELSE movie.title END,
                overview = CASE WHEN movie.detailsSyncedAt IS NULL THEN excluded.overview ELSE movie.overview END,
                updatedAt = excluded.updatedAt
            """, arguments: [item.tmdbId, item.title, item.overview, item.popularity, item.rating, item.date, item.poster,
                             item.backdrop, now, now])
        return try Int.fetchOne(db, sql: "SELECT id FROM movie WHERE tmdbId = ?", arguments: [item.tmdbId]) ?? 0
    }

    static func upsertShowSummary(_ db: Database, _ item: MediaSummary, now: Date) throws -> Int {
        try db.execute(sql: """
            INSERT INTO tv_show (tmdbId, name, overview, popularity, rating, firstAirDate, poster, backdrop, createdAt, updatedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(tmdbId) DO UPDATE SET popularity = excluded.popularity, rating = excluded.rating,
                poster = CASE WHEN excluded.poster <> '' THEN excluded.poster ELSE tv_show.poster END,
                backdrop = CASE WHEN excluded.backdrop <> '' THEN excluded.backdrop ELSE tv_show.backdrop END,
                name = CASE WHEN tv_show.detailsSyncedAt IS NULL THEN excluded.name ELSE tv_show.name END,
                overview = CASE WHEN tv_show.detailsSyncedAt IS NULL THEN excluded.overview ELSE tv_show.overview END,
                updatedAt = excluded.updatedAt
            """, arguments: [item.tmdbId, item.title, item.overview, item.popularity, item.rating, item.date, item.poster,
                             item.backdrop, now, now])
        return try Int.fetchOne(db, sql: "SELECT id FROM tv_show WHERE tmdbId = ?", arguments: [item.tmdbId]) ?? 0
    }

    static func storeGenres(_ db: Database, _ genres: [Movie.Genre], kind: MediaSummary.Kind, titleId: Int) throws {
        guard !genres.isEmpty else { return }
        let table = kind == .movie ? "movie_genres_genre" : "tv_show_genres_genre"
        let column = kind == .movie ? "movieId" : "tvShowId"
        for genre in genres {
            try db.execute(sql: "INSERT OR IGNORE INTO genre (id) VALUES (?)", arguments: [genre.id])
            for (language, name) in genre.names {
                try db.execute(sql: """
                    INSERT INTO genre_translation (genreId, name, language) VALUES (?, ?, ?)
                    ON CONFLICT(genreId, language) DO UPDATE SET name = excluded.name
                    """, arguments: [genre.id, name, language])
            }
            try db.execute(sql: "INSERT OR IGNORE INTO \(table) (\(column), genreId) VALUES (?, ?)", arguments: [titleId, genre.id])
        }
    }

    /// A number that changes whenever the list's membership is replaced (the largest row id of
    /// its join rows): lets callers cache an encoded list until the next refresh.
    public func listVersion(slug: String) throws -> Int64 {
        try writer.unsafeReentrantRead { db in
            try Int64.fetchOne(db.cachedStatement(sql: """
                SELECT COALESCE((SELECT MAX(j.rowid) FROM media_list_movies_movie j WHERE j.mediaListId = l.id), 0)
                     + COALESCE((SELECT MAX(j.rowid) FROM media_list_tv_shows_tv_show j WHERE j.mediaListId = l.id), 0)
                FROM media_list l WHERE l.slug = ?
                """), arguments: [slug]) ?? -1
        }
    }

    /// A list's members, most popular first, with genres and translations; nil when the list
    /// was never synced.
    public func listItems(slug: String) throws -> (id: Int, items: [MediaSummary])? {
        try writer.read { db in
            guard let list = try Row.fetchOne(db.cachedStatement(sql: "SELECT id FROM media_list WHERE slug = ?"), arguments: [slug]) else {
                return nil
            }
            let listId: Int = list["id"]
            let kind = (MediaListInfo.builtIn + MediaListInfo.trending).first { $0.slug == slug }?.kind ?? .movie
            let rows: [Row]
            if kind == .movie {
                rows = try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT m.id, m.tmdbId, m.imdbId, m.title AS title, m.overview, m.tagline, m.poster, m.backdrop, m.logo,
                           m.popularity, m.rating, m.releaseDate AS date, m.runtime, m.createdAt, m.updatedAt
                    FROM media_list_movies_movie j JOIN movie m ON m.id = j.movieId
                    WHERE j.mediaListId = ? ORDER BY m.popularity DESC, j.position
                    """), arguments: [listId])
            } else {
                rows = try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT s.id, s.tmdbId, s.imdbId, s.name AS title, s.overview, s.tagline, s.poster, s.backdrop, '' AS logo,
                           s.popularity, s.rating, COALESCE(s.firstAirDate, '') AS date, 0 AS runtime, s.episodeRunTime,
                           s.type, s.inProduction, s.createdAt, s.updatedAt
                    FROM media_list_tv_shows_tv_show j JOIN tv_show s ON s.id = j.tvShowId
                    WHERE j.mediaListId = ? ORDER BY s.popularity DESC, j.position
                    """), arguments: [listId])
            }
            let genreSQL = kind == .movie
                ? "SELECT j.movieId AS tid, j.genreId, gt.language, gt.name FROM movie_genres_genre j LEFT JOIN genre_translation gt ON gt.genreId = j.genreId WHERE j.movieId IN (SELECT movieId FROM media_list_movies_movie WHERE mediaListId = ?) ORDER BY j.rowid"
                : "SELECT j.tvShowId AS tid, j.genreId, gt.language, gt.name FROM tv_show_genres_genre j LEFT JOIN genre_translation gt ON gt.genreId = j.genreId WHERE j.tvShowId IN (SELECT tvShowId FROM media_list_tv_shows_tv_show WHERE mediaListId = ?) ORDER BY j.rowid"
            var genres: [Int: [(Int, String?, String?)]] = [:]
            for g in try Row.fetchAll(db.cachedStatement(sql: genreSQL), arguments: [listId]) {
                genres[g["tid"], default: []].append((g["genreId"], g["language"], g["name"]))
            }
            let translationSQL = kind == .movie
                ? "SELECT movieId AS tid, language, title, overview, tagline FROM movie_translation WHERE movieId IN (SELECT movieId FROM media_list_movies_movie WHERE mediaListId = ?)"
                : "SELECT tvShowId AS tid, language, name AS title, overview, tagline FROM tv_show_translation WHERE tvShowId IN (SELECT tvShowId FROM media_list_tv_shows_tv_show WHERE mediaListId = ?)"
            var translations: [Int: [String: Movie.Texts]] = [:]
            for t in try Row.fetchAll(db.cachedStatement(sql: translationSQL), arguments: [listId]) {
                translations[t["tid"], default: [:]][t["language"]] = Movie.Texts(title: t["title"], overview: t["overview"], tagline: t["tagline"])
            }
            let items = rows.map { row -> MediaSummary in
                let id: Int = row["id"]
                var byGenre: [Int: [String: String]] = [:]
                var order: [Int] = []
                for (genreId, language, name) in genres[id] ?? [] {
                    if byGenre[genreId] == nil { byGenre[genreId] = [:]; order.append(genreId) }
                    if let language, let name { byGenre[genreId]![language] = name }
                }
                let runTimes = ((row["episodeRunTime"] as String?) ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                return MediaSummary(kind: kind, id: id, tmdbId: row["tmdbId"], imdbId: row["imdbId"], title: row["title"],
                                    overview: row["overview"], tagline: row["tagline"], poster: row["poster"], backdrop: row["backdrop"],
                                    logo: row["logo"], popularity: row["popularity"], rating: row["rating"], date: row["date"],
                                    runtime: row["runtime"], episodeRunTime: runTimes, showType: (row["type"] as String?) ?? "",
                                    inProduction: (row["inProduction"] as Bool?) ?? false,
                                    genres: order.map { Movie.Genre(id: $0, names: byGenre[$0] ?? [:]) },
                                    translations: translations[id] ?? [:], createdAt: row["createdAt"], updatedAt: row["updatedAt"])
            }
            return (listId, items)
        }
    }
}
