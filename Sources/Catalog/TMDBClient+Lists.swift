import Domain
import Foundation

/// A page of a TMDB list.
public struct CatalogPage: Sendable {
    /// The titles on it.
    public var items: [MediaSummary]
    /// TMDB's page count.
    public var totalPages: Int
}

/// The list seam.
public protocol ListSource: Sendable {
    /// Page `page` of the list behind `slug` (one of `MediaListInfo.builtIn`).
    func page(slug: String, page: Int, budget: Double) throws(CatalogError) -> CatalogPage
}

extension TMDBClient: ListSource {
    /// The TMDB request behind each built-in list (reference internals §4.1).
    static func request(for slug: String, page: Int) -> (path: String, query: [(String, String)], kind: MediaSummary.Kind)? {
        switch slug {
        case "@@tmdb_movies_popular":
            return ("/discover/movie", [("include_adult", "false"), ("include_video", "false"), ("language", "en"), ("page", String(page)),
                                        ("sort_by", "popularity.desc"), ("vote_count.gte", "10")], .movie)
        case "@@tmdb_movies_top-rated":
            return ("/movie/top_rated", [("language", "en"), ("page", String(page))], .movie)
        case "@@tmdb_shows_popular":
            return ("/discover/tv", [("include_adult", "false"), ("include_null_first_air_dates", "false"), ("language", "en"),
                                     ("page", String(page)), ("sort_by", "popularity.desc"), ("vote_count.gte", "10")], .show)
        case "@@tmdb_movies_trending":
            return ("/trending/movie/week", [("language", "en"), ("page", String(page))], .movie)
        case "@@tmdb_shows_trending":
            return ("/trending/tv/week", [("language", "en"), ("page", String(page))], .show)
        default:
            guard let genre = MediaListInfo.genreID(of: slug), genre > 0 else { return nil }
            return ("/discover/movie", [("include_adult", "false"), ("include_video", "false"), ("language", "en"), ("page", String(page)),
                                        ("sort_by", "popularity.desc"), ("vote_count.gte", "10"), ("with_genres", String(genre))], .movie)
        }
    }

    public func page(slug: String, page: Int, budget: Double) throws(CatalogError) -> CatalogPage {
        guard let request = Self.request(for: slug, page: page) else { throw .notFound }
        let started = Date()
        let base = try imageBaseURL(budget: budget)
        let names = (try? genreNames(kind: request.kind, budget: max(0.1, budget - Date().timeIntervalSince(started)))) ?? [:]
        let raw = try get(TMDBPageResponse.self, path: request.path, query: request.query,
                          budget: max(0.1, budget - Date().timeIntervalSince(started)))
        let items = (raw.results ?? []).map { item in
            MediaSummary(kind: request.kind, tmdbId: item.id, title: item.title ?? item.name ?? "", overview: item.overview ?? "",
                         poster: TMDBMapping.image(item.poster_path, base: base), backdrop: TMDBMapping.image(item.backdrop_path, base: base),
                         popularity: item.popularity ?? 0, rating: item.vote_average ?? 0,
                         date: item.release_date ?? item.first_air_date ?? "",
                         genres: (item.genre_ids ?? []).map { Movie.Genre(id: $0, names: names[$0].map { ["en": $0] } ?? [:]) })
        }
        return CatalogPage(items: items, totalPages: raw.total_pages ?? 1)
    }

    /// Genre names by id in `language` (kept for the process's life; they change rarely).
    public func genreNames(kind: MediaSummary.Kind, language: String = "en", budget: Double) throws(CatalogError) -> [Int: String] {
        let key = kind.rawValue + "/" + language
        lock.lock()
        if let cached = genreCache[key] { lock.unlock(); return cached }
        lock.unlock()
        let raw = try get(TMDBGenreListResponse.self, path: "/genre/\(kind == .movie ? "movie" : "tv")/list",
                          query: [("language", language)], budget: budget)
        var names: [Int: String] = [:]
        for genre in raw.genres ?? [] { if let name = genre.name { names[genre.id] = name } }
        lock.lock()
        genreCache[key] = names
        lock.unlock()
        return names
    }
}
