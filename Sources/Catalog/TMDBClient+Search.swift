import Domain
import Foundation

/// The search seam.
public protocol SearchSource: Sendable {
    /// TMDB's multi search (movies and shows; people are skipped).
    func search(_ query: String, page: Int, budget: Double) throws(CatalogError) -> [MediaSummary]
}

extension TMDBClient: SearchSource {
    public func search(_ query: String, page: Int, budget: Double) throws(CatalogError) -> [MediaSummary] {
        let started = Date()
        let base = try imageBaseURL(budget: budget)
        let raw = try get(TMDBSearchResponse.self, path: "/search/multi",
                          query: [("include_adult", "false"), ("language", "en"), ("page", String(page)), ("query", query)],
                          budget: max(0.1, budget - Date().timeIntervalSince(started)))
        return (raw.results ?? []).compactMap { item in
            let kind: MediaSummary.Kind
            switch item.media_type {
            case "movie": kind = .movie
            case "tv": kind = .show
            default: return nil
            }
            return MediaSummary(kind: kind, tmdbId: item.id, title: item.title ?? item.name ?? "", overview: item.overview ?? "",
                                poster: TMDBMapping.image(item.poster_path, base: base),
                                backdrop: TMDBMapping.image(item.backdrop_path, base: base), popularity: item.popularity ?? 0,
                                rating: item.vote_average ?? 0, date: item.release_date ?? item.first_air_date ?? "", genres: [])
        }
    }
}
