import Domain
import Foundation
import WebCore

/// The port to shows and seasons (implemented by `App`).
public protocol ShowCatalog: Sendable {
    /// The show with this TMDB id; genre names for `language` are fetched when missing.
    func show(tmdbId: Int, language: String) throws(CatalogFailure) -> Show
    /// One season with its episodes.
    func season(showTmdbId: Int, number: Int) throws(CatalogFailure) -> Season
}

/// `GET /api/shows/:id`, `/seasons` and `/seasons/:season` (reference #18–#20, with real
/// seasons and episodes instead of the original's stubs).
struct ShowRoutes {
    let catalog: any ShowCatalog

    struct SeasonDTO: Encodable {
        var id: Int
        var seasonNumber: Int
        var name: String
        var overview: String
        var airDate: String?
        var poster: String?
        var episodes: [EpisodeDTO]

        enum Keys: String, CodingKey { case id, seasonNumber, name, overview, airDate, poster, episodes }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(id, forKey: .id)
            try c.encode(seasonNumber, forKey: .seasonNumber)
            try c.encode(name, forKey: .name)
            try c.encode(overview, forKey: .overview)
            try c.encode(airDate, forKey: .airDate)
            try c.encode(poster, forKey: .poster)
            try c.encode(episodes, forKey: .episodes)
        }
    }

    struct EpisodeDTO: Encodable {
        var id: Int
        var tmdbId: Int
        var episodeNumber: Int
        var name: String
        var overview: String
        var airDate: String?
        var still: String?
        var runtime: Int?

        enum Keys: String, CodingKey { case id, tmdbId, episodeNumber, name, overview, airDate, still, runtime }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(id, forKey: .id)
            try c.encode(tmdbId, forKey: .tmdbId)
            try c.encode(episodeNumber, forKey: .episodeNumber)
            try c.encode(name, forKey: .name)
            try c.encode(overview, forKey: .overview)
            try c.encode(airDate, forKey: .airDate)
            try c.encode(still, forKey: .still)
            try c.encode(runtime, forKey: .runtime)
        }
    }

    struct ShowDTO: Encodable {
        var show: Show
        var language: String

        enum Keys: String, CodingKey {
            case type, id, tmdbId, imdbId, title, overview, tagline, firstAirDate, lastAirDate, poster, backdrop, logo, genres
            case popularity, rating, status, showType = "showType", inProduction, episodeRunTime, seasons, sources
        }

        /// Falsy values come back as null, as the original.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            let texts = show.texts(for: language)
            func orNull(_ text: String?) -> String? { (text?.isEmpty ?? true) ? nil : text }
            try c.encode("show", forKey: .type)
            try c.encode(show.id, forKey: .id)
            try c.encode(show.tmdbId, forKey: .tmdbId)
            try c.encode(show.imdbId, forKey: .imdbId)
            try c.encode(texts.title, forKey: .title)
            try c.encode(orNull(texts.overview), forKey: .overview)
            try c.encode(orNull(texts.tagline), forKey: .tagline)
            try c.encode(orNull(show.firstAirDate), forKey: .firstAirDate)
            try c.encode(orNull(show.lastAirDate), forKey: .lastAirDate)
            try c.encode(orNull(show.poster), forKey: .poster)
            try c.encode(orNull(show.backdrop), forKey: .backdrop)
            try c.encodeNil(forKey: .logo)
            try c.encode(show.genreNames(for: language), forKey: .genres)
            try c.encode(show.popularity == 0 ? nil : show.popularity, forKey: .popularity)
            try c.encode(show.rating == 0 ? nil : show.rating, forKey: .rating)
            try c.encode(orNull(show.status), forKey: .status)
            try c.encode(orNull(show.type), forKey: .showType)
            try c.encode(show.inProduction, forKey: .inProduction)
            try c.encode(show.episodeRunTime, forKey: .episodeRunTime)
            try c.encode(show.seasons.map(ShowRoutes.seasonDTO), forKey: .seasons)
            try c.encode([String](), forKey: .sources)
        }
    }

    static func seasonDTO(_ ref: Show.SeasonRef) -> SeasonDTO {
        SeasonDTO(id: ref.id, seasonNumber: ref.seasonNumber, name: ref.name, overview: ref.overview, airDate: ref.airDate,
                  poster: ref.poster, episodes: [])
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("GET", "/api/shows/:id", limit: 5, access: .signedIn) { try show($0) }
        routes.on("GET", "/api/shows/:id/seasons", limit: 5, access: .signedIn) { request in
            let show = try load(request)
            return .json(show.seasons.map(ShowRoutes.seasonDTO))
        }
        routes.on("GET", "/api/shows/:id/seasons/:season", limit: 5, access: .signedIn) { try season($0) }
    }

    func load(_ request: Request, language: String = "en") throws -> Show {
        let id: Int
        do { id = try CatalogRoutes.tmdbID(request.parameter("id"), message: "Show ID must be a number") } catch APIError.handler {
            throw APIError.handler(status: 400, message: "Invalid show ID")
        }
        do { return try catalog.show(tmdbId: id, language: language) } catch { throw CatalogRoutes.apiError(error, notFound: "Show not found") }
    }

    func show(_ request: Request) throws -> Response {
        let language = try CatalogRoutes.language(request)
        return .json(ShowDTO(show: try load(request, language: language), language: language))
    }

    func season(_ request: Request) throws -> Response {
        let text = request.parameter("season") ?? ""
        guard !text.isEmpty, text.utf8.count <= 4, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = Int(text) else {
            throw APIError.validation([ValidationIssue(path: ["season"], code: "invalid_format", message: "Season must be a number")])
        }
        let show = try load(request)
        let season: Season
        do {
            season = try catalog.season(showTmdbId: show.tmdbId, number: number)
        } catch {
            throw CatalogRoutes.apiError(error, notFound: "Season not found")
        }
        var dto = Self.seasonDTO(season.ref)
        dto.episodes = season.episodes.map {
            EpisodeDTO(id: $0.id, tmdbId: $0.tmdbId, episodeNumber: $0.episodeNumber, name: $0.name, overview: $0.overview,
                       airDate: $0.airDate, still: $0.still.isEmpty ? nil : $0.still, runtime: $0.runtime)
        }
        return .json(dto)
    }
}
