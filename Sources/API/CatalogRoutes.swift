import Domain
import Foundation
import WebCore

/// Why the catalog could not produce a title (mapped to precise answers).
public enum CatalogFailure: Error, Equatable, Sendable {
    case notFound
    case notConfigured
    case timeout
    case upstream
}

/// A stored source as `MovieSourceDto` shows it.
public struct MovieSourceDTO: Encodable, Sendable, Equatable {
    public var id: Int
    public var quality: String?
    public var size: Int
    public var videoCodec: String?
    public var broadcasters: Int?
    public var watchers: Int?
    public var source: String?
    public var hasDataFile: Bool

    public init(id: Int, quality: String?, size: Int, videoCodec: String?, broadcasters: Int?, watchers: Int?, source: String?, hasDataFile: Bool) {
        self.id = id
        self.quality = quality
        self.size = size
        self.videoCodec = videoCodec
        self.broadcasters = broadcasters
        self.watchers = watchers
        self.source = source
        self.hasDataFile = hasDataFile
    }

    enum CodingKeys: String, CodingKey { case id, quality, size, videoCodec, broadcasters, watchers, source, hasDataFile }

    /// Every key present (null when unknown): the original dropped some (its bug #4).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(quality, forKey: .quality)
        try c.encode(size, forKey: .size)
        try c.encode(videoCodec, forKey: .videoCodec)
        try c.encode(broadcasters, forKey: .broadcasters)
        try c.encode(watchers, forKey: .watchers)
        try c.encode(source, forKey: .source)
        try c.encode(hasDataFile, forKey: .hasDataFile)
    }
}

/// The port to the catalog (database first, TMDB on a miss), implemented by `App`.
public protocol MovieCatalog: Sendable {
    /// The movie with this TMDB id; genre names for `language` are fetched when missing.
    func movie(tmdbId: Int, language: String) throws(CatalogFailure) -> Movie
    /// Its stored sources, in insertion order.
    func sources(movieId: Int) throws -> [MovieSourceDTO]
}

/// `GET /api/movies/:id` (reference #16).
struct CatalogRoutes {
    let catalog: any MovieCatalog
    let clock: APIClock
    /// Searches the directories for a movie without sources (`includeSources=true`).
    var sourceSearch: (any SourceSearching)?
    /// Hints the engine to prefetch a title someone opened.
    var prefetch: (any PrefetchHinting)?
    /// TMDB id → internal movie id, so cached answers still give the prefetch hint.
    let movieIDs = MovieIDs()

    final class MovieIDs: @unchecked Sendable {
        private var ids: [Int: Int] = [:]
        private let lock = NSLock()
        func get(_ tmdbId: Int) -> Int? { lock.withLock { ids[tmdbId] } }
        func set(_ tmdbId: Int, _ id: Int) { lock.withLock { if ids.count < 100_000 { ids[tmdbId] = id } } }
    }

    func hint(_ request: Request, movieId: Int) {
        if let identity = request.identity, identity.role != "guest" {
            prefetch?.opened(movieId: movieId, userId: identity.userId)
        }
    }
    /// Encoded details per (title, language) for a few seconds (not with sources, which
    /// change while a title is being prepared for streaming).
    let cache = EncodedResponseCache(ttl: 10)

    struct MovieDTO: Encodable {
        var type = "movie"
        var id: Int
        var tmdbId: Int
        var imdbId: String?
        var title: String
        var overview: String
        var tagline: String
        var releaseDate: String
        var runtime: Int
        var poster: String
        var backdrop: String
        var logo: String
        var genres: [String]
        var popularity: Double
        var rating: Double
        var sources: [MovieSourceDTO]?

        enum CodingKeys: String, CodingKey {
            case type, id, tmdbId, imdbId, title, overview, tagline, releaseDate, runtime, poster, backdrop, logo, genres, popularity, rating, sources
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(id, forKey: .id)
            try c.encode(tmdbId, forKey: .tmdbId)
            try c.encode(imdbId, forKey: .imdbId)
            try c.encode(title, forKey: .title)
            try c.encode(overview, forKey: .overview)
            try c.encode(tagline, forKey: .tagline)
            try c.encode(releaseDate, forKey: .releaseDate)
            try c.encode(runtime, forKey: .runtime)
            try c.encode(poster, forKey: .poster)
            try c.encode(backdrop, forKey: .backdrop)
            try c.encode(logo, forKey: .logo)
            try c.encode(genres, forKey: .genres)
            try c.encode(popularity, forKey: .popularity)
            try c.encode(rating, forKey: .rating)
            try c.encodeIfPresent(sources, forKey: .sources)
        }
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("GET", "/api/movies/:id", limit: 5, access: .signedIn) { try movie($0) }
    }

    /// Parses a TMDB id path parameter with the reference's messages.
    static func tmdbID(_ text: String?, message: String = "Movie ID must be a number") throws -> Int {
        guard let text, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw APIError.validation([ValidationIssue(path: ["id"], code: "invalid_format", message: message)])
        }
        guard text.utf8.count <= 10, let id = Int(text), id > 0, id <= Int(Int32.max) else {
            throw APIError.handler(status: 400, message: "Invalid movie ID")
        }
        return id
    }

    /// `lang`: 2–5 characters, default `en`.
    static func language(_ request: Request) throws -> String {
        guard let lang = request.query["lang"] else { return "en" }
        guard (2...5).contains(lang.count), lang.allSatisfy({ $0.isLetter || $0 == "-" || $0 == "_" }) else {
            throw APIError.validation([ValidationIssue(path: ["lang"], code: "invalid_format", message: "lang must be 2 to 5 letters")])
        }
        return lang
    }

    func movie(_ request: Request) throws -> Response {
        let tmdbId = try Self.tmdbID(request.parameter("id"))
        let language = try Self.language(request)
        let withSources = request.query["includeSources"] == "true"
        let key = "\(tmdbId)\u{0}\(language)"
        let now = clock.monotonicMillis()
        if !withSources, let cached = cache.get(key, now: now) {
            if let id = movieIDs.get(tmdbId) { hint(request, movieId: id) }
            return .json(bytes: cached)
        }
        let movie: Movie
        do {
            movie = try catalog.movie(tmdbId: tmdbId, language: language)
        } catch {
            throw Self.apiError(error, notFound: "Movie not found")
        }
        movieIDs.set(tmdbId, movie.id)
        hint(request, movieId: movie.id)
        let texts = movie.texts(for: language)
        var dto = MovieDTO(id: movie.id, tmdbId: movie.tmdbId, imdbId: movie.imdbId, title: texts.title, overview: texts.overview,
                           tagline: texts.tagline, releaseDate: movie.releaseDate, runtime: movie.runtime, poster: movie.poster,
                           backdrop: movie.backdrop, logo: movie.logo, genres: movie.genreNames(for: language),
                           popularity: movie.popularity, rating: movie.rating)
        if withSources {
            dto.sources = try catalog.sources(movieId: movie.id)
            if dto.sources?.isEmpty == true, let search = sourceSearch {
                search.searchIfNeeded(movieId: movie.id, budget: 1.2)
                dto.sources = try catalog.sources(movieId: movie.id)
            }
            return .json(dto)
        }
        let bytes = JSON.encode(dto)
        cache.put(key, bytes, now: now)
        return .json(bytes: bytes)
    }

    static func apiError(_ failure: CatalogFailure, notFound: String) -> APIError {
        switch failure {
        case .notFound: return .handler(status: 404, message: notFound)
        case .notConfigured: return .notConfigured(service: "TMDB")
        case .timeout: return .handler(status: 504, message: "TMDB did not answer in time")
        case .upstream: return .handler(status: 502, message: "TMDB is unavailable")
        }
    }
}
