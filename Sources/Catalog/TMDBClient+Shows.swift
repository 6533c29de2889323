import Domain
import Foundation

/// The show seam.
public protocol ShowSource: Sendable {
    /// The show with this TMDB id (details, translations, season list).
    func show(tmdbId: Int, budget: Double) throws(CatalogError) -> Show
    /// One season with its episodes.
    func season(showTmdbId: Int, number: Int, budget: Double) throws(CatalogError) -> Season
}

extension TMDBClient: ShowSource {
    public func show(tmdbId: Int, budget: Double) throws(CatalogError) -> Show {
        let started = Date()
        let base = try imageBaseURL(budget: budget)
        let raw = try get(TMDBShowResponse.self, path: "/tv/\(tmdbId)",
                          query: [("append_to_response", "external_ids,translations"), ("language", "en")],
                          budget: max(0.1, budget - Date().timeIntervalSince(started)))
        var translations: [String: Movie.Texts] = [:]
        for translation in raw.translations?.translations ?? [] {
            guard let language = translation.iso_639_1, !language.isEmpty, let data = translation.data else { continue }
            let texts = Movie.Texts(title: data.name ?? "", overview: data.overview ?? "", tagline: data.tagline ?? "")
            if let region = translation.iso_3166_1, !region.isEmpty { translations["\(language)-\(region)"] = texts }
            TMDBMapping.mergeBase(&translations, language, texts)
        }
        let seasons = (raw.seasons ?? []).compactMap { season -> Show.SeasonRef? in
            guard let number = season.season_number else { return nil }
            return Show.SeasonRef(tmdbId: season.id ?? 0, seasonNumber: number, name: season.name ?? "Season \(number)",
                                  overview: season.overview ?? "", airDate: season.air_date,
                                  poster: season.poster_path.map { TMDBMapping.image($0, base: base) })
        }
        return Show(tmdbId: raw.id, imdbId: raw.external_ids?.imdb_id.flatMap { $0.isEmpty ? nil : $0 },
                    original: Movie.Texts(title: raw.name ?? "", overview: raw.overview ?? "", tagline: raw.tagline ?? ""),
                    firstAirDate: raw.first_air_date, lastAirDate: raw.last_air_date,
                    poster: TMDBMapping.image(raw.poster_path, base: base), backdrop: TMDBMapping.image(raw.backdrop_path, base: base),
                    popularity: raw.popularity ?? 0, rating: raw.vote_average ?? 0, status: raw.status ?? "", type: raw.type ?? "",
                    inProduction: raw.in_production ?? false, episodeRunTime: raw.episode_run_time ?? [],
                    genres: (raw.genres ?? []).map { Movie.Genre(id: $0.id, names: $0.name.map { ["en": $0] } ?? [:]) },
                    translations: translations, seasons: seasons)
    }

    public func season(showTmdbId: Int, number: Int, budget: Double) throws(CatalogError) -> Season {
        let started = Date()
        let base = try imageBaseURL(budget: budget)
        let raw = try get(TMDBSeasonResponse.self, path: "/tv/\(showTmdbId)/season/\(number)", query: [("language", "en")],
                          budget: max(0.1, budget - Date().timeIntervalSince(started)))
        let episodes = (raw.episodes ?? []).compactMap { episode -> Season.Episode? in
            guard let episodeNumber = episode.episode_number else { return nil }
            return Season.Episode(tmdbId: episode.id, episodeNumber: episodeNumber, name: episode.name ?? "", overview: episode.overview ?? "",
                                  airDate: episode.air_date, still: TMDBMapping.image(episode.still_path, base: base), runtime: episode.runtime)
        }
        return Season(ref: Show.SeasonRef(tmdbId: raw.id ?? 0, seasonNumber: raw.season_number ?? number, name: raw.name ?? "Season \(number)",
                                          overview: raw.overview ?? "", airDate: raw.air_date,
                                          poster: raw.poster_path.map { TMDBMapping.image($0, base: base) }),
                      episodes: episodes)
    }
}
