import Domain
import Foundation
import WebCore

/// The port to the catalog's lists (implemented by `App`).
public protocol ListCatalog: Sendable {
    /// The lists offered.
    var lists: [MediaListInfo] { get }
    /// The list's id and members (most popular first); nil for an unknown slug.
    func list(slug: String) throws(CatalogFailure) -> (id: Int, items: [MediaSummary])?
    /// Changes whenever the list's members are replaced.
    func version(slug: String) -> Int64
    /// The list behind `slug`, if it is one we offer.
    func info(slug: String) -> MediaListInfo?
}

/// `GET /api/lists` and `GET /api/list/:slug` (reference #28, #29; an unknown slug is a 404,
/// not the original's 500).
struct ListRoutes {
    let catalog: any ListCatalog
    let clock: APIClock
    /// Encoded list answers per (slug, language, list version): a list changes hourly while
    /// every home screen asks for it; this keeps the 30 KB answer from being rebuilt and
    /// re-encoded on every request (see bench/catalog.sh). A refresh changes the version.
    let cache = EncodedResponseCache(ttl: 60)

    struct ListInfoDTO: Encodable {
        var name: String
        var slug: String
        var description: String
        var url: String
    }

    struct ListRefDTO: Encodable {
        var id: Int
        var name: String
        var slug: String
        var description: String
    }

    struct PageDTO: Encodable {
        var results: [ItemDTO]
        var total: Int
        var list: ListRefDTO
    }

    /// MovieDto / TVShowDto of the reference (`imdbId` and `tagline` left out when empty).
    struct ItemDTO: Encodable {
        let summary: MediaSummary
        let language: String

        enum Keys: String, CodingKey {
            case type = "_type", id, tmdbId, imdbId, title, name, overview, tagline, poster, backdrop, logo, genres, popularity, rating
            case releaseDate, runtime, firstAirDate, episodeRunTime, showType = "type", inProduction, createdAt, updatedAt
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            let texts = summary.texts(for: language)
            try c.encode(summary.kind == .movie ? "movie" : "tvshow", forKey: .type)
            try c.encode(summary.id, forKey: .id)
            try c.encode(summary.tmdbId, forKey: .tmdbId)
            if let imdb = summary.imdbId, !imdb.isEmpty { try c.encode(imdb, forKey: .imdbId) }
            try c.encode(texts.title, forKey: summary.kind == .movie ? .title : .name)
            try c.encode(texts.overview, forKey: .overview)
            if !texts.tagline.isEmpty { try c.encode(texts.tagline, forKey: .tagline) }
            try c.encode(summary.poster, forKey: .poster)
            try c.encode(summary.backdrop, forKey: .backdrop)
            try c.encode(summary.genreNames(for: language), forKey: .genres)
            try c.encode(summary.popularity, forKey: .popularity)
            try c.encode(summary.rating, forKey: .rating)
            if summary.kind == .movie {
                try c.encode(summary.logo, forKey: .logo)
                try c.encode(summary.date, forKey: .releaseDate)
                try c.encode(summary.runtime, forKey: .runtime)
            } else {
                try c.encode(summary.date, forKey: .firstAirDate)
                try c.encode(summary.episodeRunTime, forKey: .episodeRunTime)
                try c.encode(summary.showType, forKey: .showType)
                try c.encode(summary.inProduction, forKey: .inProduction)
            }
            try c.encode(summary.createdAt, forKey: .createdAt)
            try c.encode(summary.updatedAt, forKey: .updatedAt)
        }
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("GET", "/api/lists", limit: 5, access: .signedIn) { _ in
            .json(catalog.lists.map { ListInfoDTO(name: $0.name, slug: $0.slug, description: $0.description, url: "/list/\($0.slug)") })
        }
        routes.on("GET", "/api/list/:slug", limit: 10, access: .signedIn) { try list($0) }
    }

    func list(_ request: Request) throws -> Response {
        let language = try CatalogRoutes.language(request)
        let slug = request.parameter("slug") ?? ""
        guard (2...100).contains(slug.count) else {
            throw APIError.validation([ValidationIssue(path: ["slug"], code: "invalid_format", message: "slug must be 2 to 100 characters")])
        }
        let key = slug + "\u{0}" + language + "\u{0}" + String(catalog.version(slug: slug))
        let now = clock.monotonicMillis()
        if let cached = cache.get(key, now: now) { return .json(bytes: cached) }
        let found: (id: Int, items: [MediaSummary])?
        do { found = try catalog.list(slug: slug) } catch { throw CatalogRoutes.apiError(error, notFound: "List not found") }
        guard let found, let info = catalog.info(slug: slug) else {
            throw APIError.handler(status: 404, message: "List not found")
        }
        let items = found.items.map { ItemDTO(summary: $0, language: language) }
        let bytes = JSON.encode(PageDTO(results: items, total: items.count,
                                        list: ListRefDTO(id: found.id, name: info.name, slug: info.slug, description: info.description)))
        if !items.isEmpty { cache.put(slug + "\u{0}" + language + "\u{0}" + String(catalog.version(slug: slug)), bytes, now: now) }
        return .json(bytes: bytes)
    }
}

/// A small time-bounded cache of encoded answers (bounded: at most 256 entries).
final class EncodedResponseCache: @unchecked Sendable {
    private var entries: [String: (bytes: [UInt8], expires: Int64)] = [:]
    private let lock = NSLock()
    let ttlMillis: Int64

    init(ttl seconds: Int) { ttlMillis = Int64(seconds) * 1000 }
    init(ttlMillis: Int64) { self.ttlMillis = ttlMillis }

    func get(_ key: String, now: Int64) -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[key], entry.expires > now else { return nil }
        return entry.bytes
    }

    func put(_ key: String, _ bytes: [UInt8], now: Int64) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= 256 { entries = entries.filter { $0.value.expires > now } }
        if entries.count >= 256 { entries.removeAll() }
        entries[key] = (bytes, now + ttlMillis)
    }
}
