import Domain
import Foundation
import HTTPClient
import Logging

/// Why the catalog could not answer.
public enum CatalogError: Error, Equatable, Sendable {
    /// TMDB has no such title.
    case notFound
    /// `TMDB_API_ACCESS_TOKEN` is not set.
    case notConfigured
    /// TMDB did not answer within the budget.
    case timeout
    /// TMDB answered with an error or could not be reached.
    case upstream(status: Int)
    /// TMDB's answer was not the JSON we expect (for this title only).
    case decode
}

/// Where upstream answers are kept between processes and restarts (the database in
/// production).
public protocol ResponseCache: Sendable {
    func get(_ key: String) -> [UInt8]?
    func put(_ key: String, _ value: [UInt8], ttl: TimeInterval)
}

/// The catalog source seam: TMDB in production, fixture-backed or in-memory in tests.
public protocol MovieSource: Sendable {
    /// The movie with this TMDB id, in English with every translation.
    func movie(tmdbId: Int, budget: Double) throws(CatalogError) -> Movie
}

/// TMDB v3 over `HTTPClient` (reference internals §4.1): Bearer token, `TMDB_API_URL`
/// including `/3`, 40 requests/s, image paths turned into full `original` URLs using the
/// `/configuration` answer (kept for a day).
public final class TMDBClient: MovieSource, @unchecked Sendable {
    let baseURL: String
    let token: String?
    let http: HTTPClient
    let logger: Logger
    let cache: (any ResponseCache)?
    let lock = NSLock()
    private var imageBase: (url: String, fetched: Date)?
    var genreCache: [String: [Int: String]] = [:]

    /// Creates a client.
    public init(baseURL: String, token: String?, http: HTTPClient, logger: Logger, cache: (any ResponseCache)? = nil) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = (token?.isEmpty ?? true) ? nil : token
        self.http = http
        self.logger = logger
        self.cache = cache
    }

    /// How long an answer stays in the response cache (reference internals §4.7); change
    /// feeds and searches are not cached.
    static func ttl(for path: String) -> TimeInterval? {
        if path == "/configuration" { return 30 * 86400 }
        if path.hasPrefix("/genre/") { return 2 * 86400 }
        if path.hasSuffix("/changes") || path.hasPrefix("/search/") { return nil }
        return 3600
    }

    func get<T: Decodable>(_ type: T.Type, path: String, query: [(String, String)], budget: Double) throws(CatalogError) -> T {
        guard let token else { throw .notConfigured }
        let cacheKey = "tmdb:" + path + "?" + query.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let ttl = Self.ttl(for: path)
        if ttl != nil, let cached = cache?.get(cacheKey), let value = try? JSONDecoder().decode(T.self, from: Data(cached)) {
            return value
        }
        let queryString = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0.1)" }
            .joined(separator: "&")
        let url = baseURL + path + (queryString.isEmpty ? "" : "?" + queryString)
        let response: HTTPResponse
        do {
            response = try http.get(url, headers: ["Authorization: Bearer \(token)", "Accept: application/json"], budget: budget)
        } catch .timeout {
            throw .timeout
        } catch {
            throw .upstream(status: 0)
        }
        switch response.status {
        case 200..<300: break
        case 404: throw .notFound
        default: throw .upstream(status: response.status)
        }
        do {
            let value = try JSONDecoder().decode(T.self, from: Data(response.body))
            if let ttl { cache?.put(cacheKey, response.body, ttl: ttl) }
            return value
        } catch {
            logger.warning("malformed TMDB answer", metadata: ["event": "tmdb_decode_error", "path": "\(path)"])
            throw .decode
        }
    }

    /// `images.secure_base_url` (cached for a day).
    func imageBaseURL(budget: Double) throws(CatalogError) -> String {
        lock.lock()
        if let cached = imageBase, cached.fetched.timeIntervalSinceNow > -86400 { lock.unlock(); return cached.url }
        lock.unlock()
        let configuration = try get(TMDBConfigurationResponse.self, path: "/configuration", query: [], budget: budget)
        let url = configuration.images?.secure_base_url ?? "https://image.tmdb.org/t/p/"
        lock.lock()
        imageBase = (url, Date())
        lock.unlock()
        return url
    }

    public func movie(tmdbId: Int, budget: Double) throws(CatalogError) -> Movie {
        let started = Date()
        let base = try imageBaseURL(budget: budget)
        let remaining = max(0.1, budget - Date().timeIntervalSince(started))
        let raw = try get(TMDBMovieResponse.self, path: "/movie/\(tmdbId)",
                          query: [("append_to_response", "translations,images"), ("language", "en")], budget: remaining)
        return TMDBMapping.movie(raw, imageBase: base)
    }
}

/// Mapping of TMDB answers into `Domain` values (pure).
enum TMDBMapping {
    /// The base-language entry (`es`) takes each field from the first regional variant that
    /// has it non-empty (TMDB often has an empty `es-ES` next to a filled `es-MX`).
    static func mergeBase(_ translations: inout [String: Movie.Texts], _ language: String, _ texts: Movie.Texts) {
        guard var existing = translations[language] else {
            translations[language] = texts
            return
        }
        if existing.title.isEmpty { existing.title = texts.title }
        if existing.overview.isEmpty { existing.overview = texts.overview }
        if existing.tagline.isEmpty { existing.tagline = texts.tagline }
        translations[language] = existing
    }

    static func image(_ path: String?, base: String) -> String {
        guard let path, !path.isEmpty else { return "" }
        return base + "original" + path
    }

    static func movie(_ raw: TMDBMovieResponse, imageBase: String) -> Movie {
        var translations: [String: Movie.Texts] = [:]
        for translation in raw.translations?.translations ?? [] {
            guard let language = translation.iso_639_1, !language.isEmpty, let data = translation.data else { continue }
            let texts = Movie.Texts(title: data.title ?? "", overview: data.overview ?? "", tagline: data.tagline ?? "")
            if let region = translation.iso_3166_1, !region.isEmpty { translations["\(language)-\(region)"] = texts }
            mergeBase(&translations, language, texts)
        }
        let runtime = raw.runtime.flatMap { $0 > 0 ? $0 : nil }
            ?? raw.translations?.translations?.lazy.compactMap { $0.data?.runtime }.first { $0 > 0 } ?? 0
        let trailer = raw.videos?.results?.first { $0.site == "YouTube" && $0.type == "Trailer" }?.key
            .map { "https://www.youtube.com/watch?v=\($0)" }
        return Movie(tmdbId: raw.id, imdbId: raw.imdb_id.flatMap { $0.isEmpty ? nil : $0 },
                     original: Movie.Texts(title: raw.title ?? "", overview: raw.overview ?? "", tagline: raw.tagline ?? ""),
                     releaseDate: raw.release_date ?? "", runtime: runtime,
                     poster: image(raw.poster_path, base: imageBase), backdrop: image(raw.backdrop_path, base: imageBase),
                     logo: image(raw.images?.logos?.first?.file_path, base: imageBase), trailer: trailer,
                     popularity: raw.popularity ?? 0, rating: raw.vote_average ?? 0,
                     genres: (raw.genres ?? []).map { Movie.Genre(id: $0.id, names: $0.name.map { ["en": $0] } ?? [:]) },
                     translations: translations)
    }
}
