import Domain
import Foundation
import GRDB

extension AppDatabase {
    /// The stored show with this TMDB id, with genres, translations and its season list.
    public func show(tmdbId: Int) throws -> Show? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, tmdbId, imdbId, name, overview, tagline, firstAirDate, lastAirDate, poster, backdrop, popularity, rating,
                       status, type, inProduction, episodeRunTime, detailsSyncedAt FROM tv_show WHERE tmdbId = ?
                """), arguments: [tmdbId]) else { return nil }
            let id: Int = row["id"]
            var translations: [String: Movie.Texts] = [:]
            for t in try Row.fetchAll(db.cachedStatement(sql: "SELECT language, name, overview, tagline FROM tv_show_translation WHERE tvShowId = ?"),
                                      arguments: [id]) {
                translations[t["language"]] = Movie.Texts(title: t["name"], overview: t["overview"], tagline: t["tagline"])
            }
            var names: [Int: [String: String]] = [:]
            var order: [Int] = []
            for g in try Row.fetchAll(db.cachedStatement(sql: """
                SELECT j.genreId, gt.language, gt.name FROM tv_show_genres_genre j
                LEFT JOIN genre_translation gt ON gt.genreId = j.genreId WHERE j.tvShowId = ? ORDER BY j.rowid
                """), arguments: [id]) {
                let genreId: Int = g["genreId"]
                if names[genreId] == nil { names[genreId] = [:]; order.append(genreId) }
                if let language: String = g["language"], let name: String = g["name"] { names[genreId]![language] = name }
            }
            let seasons = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, tmdbId, seasonNumber, name, overview, airDate, posterPath FROM season WHERE tvShowId = ? ORDER BY seasonNumber
                """), arguments: [id]).map {
                Show.SeasonRef(id: $0["id"], tmdbId: $0["tmdbId"], seasonNumber: $0["seasonNumber"], name: $0["name"],
                               overview: $0["overview"], airDate: $0["airDate"], poster: $0["posterPath"])
            }
            let runTimes = ((row["episodeRunTime"] as String?) ?? "").split(separator: ",").compactMap { Int($0) }
            return Show(id: id, tmdbId: row["tmdbId"], imdbId: row["imdbId"],
                        original: Movie.Texts(title: row["name"], overview: row["overview"], tagline: row["tagline"]),
                        firstAirDate: row["firstAirDate"], lastAirDate: row["lastAirDate"], poster: row["poster"], backdrop: row["backdrop"],
                        popularity: row["popularity"], rating: row["rating"], status: row["status"], type: row["type"],
                        inProduction: row["inProduction"], episodeRunTime: runTimes,
                        genres: order.map { Movie.Genre(id: $0, names: names[$0] ?? [:]) }, translations: translations,
                        seasons: seasons, detailsComplete: row["detailsSyncedAt"] as DatabaseValue != .null)
        }
    }

    /// Stores a show's details, translations, genres and season list in one transaction.
    public func saveShow(_ show: Show, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO tv_show (tmdbId, imdbId, name, overview, tagline, firstAirDate, lastAirDate, poster, backdrop, popularity,
                                     rating, status, type, inProduction, episodeRunTime, createdAt, updatedAt, detailsSyncedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(tmdbId) DO UPDATE SET imdbId = excluded.imdbId, name = excluded.name, overview = excluded.overview,
                    tagline = excluded.tagline, firstAirDate = excluded.firstAirDate, lastAirDate = excluded.lastAirDate,
                    poster = excluded.poster, backdrop = excluded.backdrop, popularity = excluded.popularity, rating = excluded.rating,
                    status = excluded.status, type = excluded.type, inProduction = excluded.inProduction,
                    episodeRunTime = excluded.episodeRunTime, updatedAt = excluded.updatedAt, detailsSyncedAt = excluded.detailsSyncedAt
                """, arguments: [show.tmdbId, show.imdbId, show.original.title, show.original.overview, show.original.tagline,
                                 show.firstAirDate, show.lastAirDate, show.poster, show.backdrop, show.popularity, show.rating,
                                 show.status, show.type, show.inProduction, show.episodeRunTime.map(String.init).joined(separator: ","),
                                 now, now, now])
            let id = try Int.fetchOne(db, sql: "SELECT id FROM tv_show WHERE tmdbId = ?", arguments: [show.tmdbId]) ?? 0
            for (language, texts) in show.translations {
                try db.execute(sql: """
                    INSERT INTO tv_show_translation (tvShowId, language, name, overview, tagline, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(tvShowId, language) DO UPDATE SET name = excluded.name, overview = excluded.overview,
                        tagline = excluded.tagline, updatedAt = excluded.updatedAt
                    """, arguments: [id, language, texts.title, texts.overview, texts.tagline, now, now])
            }
            try db.execute(sql: "DELETE FROM tv_show_genres_genre WHERE tvShowId = ?", arguments: [id])
            try Self.storeGenres(db, show.genres, kind: .show, titleId: id)
            for season in show.seasons {
                try db.execute(sql: """
                    INSERT INTO season (tmdbId, tvShowId, seasonNumber, name, overview, airDate, posterPath, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(tvShowId, seasonNumber) DO UPDATE SET tmdbId = excluded.tmdbId, name = excluded.name,
                        overview = excluded.overview, airDate = excluded.airDate, posterPath = excluded.posterPath, updatedAt = excluded.updatedAt
                    """, arguments: [season.tmdbId, id, season.seasonNumber, season.name, season.overview, season.airDate, season.poster, now, now])
            }
        }
    }

    /// A stored, synced season with its episodes (nil when not synced yet).
    public func season(showTmdbId: Int, number: Int) throws -> Season? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT s.id, s.tmdbId, s.seasonNumber, s.name, s.overview, s.airDate, s.posterPath, s.synced
                FROM season s JOIN tv_show t ON t.id = s.tvShowId WHERE t.tmdbId = ? AND s.seasonNumber = ?
                """), arguments: [showTmdbId, number]), row["synced"] as Bool else { return nil }
            let seasonId: Int = row["id"]
            let episodes = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, tmdbId, episodeNumber, name, overview, airDate, stillPath, runtime FROM episode WHERE seasonId = ? ORDER BY episodeNumber
                """), arguments: [seasonId]).map {
                Season.Episode(id: $0["id"], tmdbId: $0["tmdbId"], episodeNumber: $0["episodeNumber"], name: $0["name"],
                               overview: $0["overview"], airDate: $0["airDate"], still: $0["stillPath"], runtime: $0["runtime"])
            }
            return Season(ref: Show.SeasonRef(id: seasonId, tmdbId: row["tmdbId"], seasonNumber: row["seasonNumber"], name: row["name"],
                                              overview: row["overview"], airDate: row["airDate"], poster: row["posterPath"]),
                          episodes: episodes)
        }
    }

    /// Stores a season's episodes and marks it synced (one transaction). The show must be stored.
    public func saveSeason(showTmdbId: Int, _ season: Season, now: Date) throws {
        try writer.write { db in
            guard let showId = try Int.fetchOne(db, sql: "SELECT id FROM tv_show WHERE tmdbId = ?", arguments: [showTmdbId]) else { return }
            try db.execute(sql: """
                INSERT INTO season (tmdbId, tvShowId, seasonNumber, name, overview, airDate, posterPath, synced, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                ON CONFLICT(tvShowId, seasonNumber) DO UPDATE SET tmdbId = excluded.tmdbId, name = excluded.name, overview = excluded.overview,
                    airDate = excluded.airDate, posterPath = excluded.posterPath, synced = 1, updatedAt = excluded.updatedAt
                """, arguments: [season.ref.tmdbId, showId, season.ref.seasonNumber, season.ref.name, season.ref.overview,
                                 season.ref.airDate, season.ref.poster, now, now])
            let seasonId = try Int.fetchOne(db, sql: "SELECT id FROM season WHERE tvShowId = ? AND seasonNumber = ?",
                                            arguments: [showId, season.ref.seasonNumber]) ?? 0
            for episode in season.episodes {
                try db.execute(sql: """
                    INSERT INTO episode (tmdbId, seasonId, episodeNumber, name, overview, airDate, stillPath, runtime, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(seasonId, episodeNumber) DO UPDATE SET tmdbId = excluded.tmdbId, name = excluded.name,
                        overview = excluded.overview, airDate = excluded.airDate, stillPath = excluded.stillPath,
                        runtime = excluded.runtime, updatedAt = excluded.updatedAt
                    """, arguments: [episode.tmdbId, seasonId, episode.episodeNumber, episode.name, episode.overview, episode.airDate,
                                     episode.still, episode.runtime, now, now])
            }
        }
    }
}
