import BitTorrentCore
import Crypto
import Domain
import Foundation
import Persistence
import SourceLogic
import WebCore

/// Watch Now and manual sources:
/// - `POST /api/movies/:tmdbId/:quality` (reference #17) issues a streaming key for the best
///   streamable source and records the intent for the engine. Fixes: the key is ≥ 240 random
///   bits stored only as HMAC-SHA256, bound to user + movie + source, and `expiresAt` is the
///   real expiry (`STREAM_TOKEN_EXPIRATION`); guests get 403.
/// - `POST /api/admin/movies/:tmdbId/sources` (new) attaches a magnet or an uploaded .torrent
///   to a title the directories miss; the .torrent is validated (bounded decoder, path
///   sanitizer, geometry) and stored encrypted.
struct StreamKeyRoutes {
    let environment: APIEnvironment
    let database: AppDatabase
    let movies: any MovieCatalog
    let auth: AuthRoutes

    static let qualities = ["auto", "8K", "4K", "2K", "FHD", "HD", "SD"]

    struct KeyDTO: Encodable {
        var streamingKey: String
        var quality: String?
        var size: Int
        var videoCodec: String?
        var broadcasters: Int?
        var watchers: Int?
        var expiresAt: String

        enum Keys: String, CodingKey { case streamingKey, quality, size, videoCodec, broadcasters, watchers, expiresAt }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(streamingKey, forKey: .streamingKey)
            try c.encode(quality, forKey: .quality)
            try c.encode(size, forKey: .size)
            try c.encode(videoCodec, forKey: .videoCodec)
            try c.encode(broadcasters, forKey: .broadcasters)
            try c.encode(watchers, forKey: .watchers)
            try c.encode(expiresAt, forKey: .expiresAt)
        }
    }

    struct ManualSource: Decodable {
        var magnet: String?
        var torrent: String?
        var quality: String?
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("POST", "/api/movies/:tmdbId/:quality", limit: 5, access: .member) { try watch($0) }
        routes.on("POST", "/api/admin/movies/:tmdbId/sources", limit: 1, access: .admin) { try addSource($0) }
    }

    func movie(_ request: Request) throws -> Movie {
        let id = try CatalogRoutes.tmdbID(request.parameter("tmdbId"))
        do { return try movies.movie(tmdbId: id, language: "en") } catch {
            throw CatalogRoutes.apiError(error, notFound: "Movie not found")
        }
    }

    func watch(_ request: Request) throws -> Response {
        let quality = try Self.quality(request)
        _ = try CatalogRoutes.language(request)
        guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
        let movie = try movie(request)
        if try database.sourceCount(movieId: movie.id) == 0 {
            environment.sourceSearch?.searchIfNeeded(movieId: movie.id, budget: 1.2)
        }
        guard try database.sourceCount(movieId: movie.id) > 0 else {
            throw APIError.handler(status: 404, message: "No sources available for this movie")
        }
        let source = try Self.choose(try database.streamableSources(movieId: movie.id), quality: quality, hevc: request.query["hevc"] == "true")
        return try Self.issueKey(environment, userId: identity.userId, source: source) { keyHash, expiresAt, now in
            try database.issueStreamingKey(keyHash: keyHash, userId: identity.userId, movieId: movie.id, sourceId: source.id,
                                           expiresAt: expiresAt, now: now)
        }
    }

    /// A new streaming key for `source` (movie or episode alike): `store` saves its HMAC with
    /// the intent; the engine is woken so the torrent starts before the player's first request.
    static func issueKey(_ environment: APIEnvironment, userId: String, source: StreamableSource,
                         store: (_ keyHash: String, _ expiresAt: Date, _ now: Date) throws -> Void) throws -> Response {
        let key = newKey(userId: userId)
        let now = environment.clock.now()
        let expiresAt = now.addingTimeInterval(Double(environment.streamKeyTTL))
        try store(hash(key, secret: environment.streamKeySecret), expiresAt, now)
        environment.engineWaker?.wake("stream-intents")
        return .json(KeyDTO(streamingKey: key, quality: source.quality, size: source.size, videoCodec: source.videoCodec,
                            broadcasters: source.broadcasters, watchers: source.watchers,
                            expiresAt: ISO8601DateFormatter().string(from: expiresAt)))
    }

    /// The source Watch Now streams: the requested quality if there is one, else the best.
    /// `hevc`: the client decodes HEVC (a TV, Safari), so HEVC sources compete on equal
    /// terms (the stored score assumes a browser that cannot).
    static func choose(_ sources: [StreamableSource], quality: String, hevc: Bool) throws -> StreamableSource {
        var streamable = sources
        if hevc {
            func rank(_ source: StreamableSource) -> Int {
                StreamingScore.score(.init(quality: source.quality.flatMap(ReleaseInfo.Quality.init(rawValue:)),
                                           codec: source.videoCodec.flatMap(ReleaseInfo.VideoCodec.init(rawValue:)),
                                           releaseType: source.releaseType.flatMap(ReleaseInfo.ReleaseType.init(rawValue:)),
                                           size: Int64(source.size), seeders: source.broadcasters, leechers: source.watchers),
                                     hevcPlayable: true)
            }
            streamable.sort { ($0.hasFile ? 1 : 0, rank($0)) > ($1.hasFile ? 1 : 0, rank($1)) }
        }
        let chosen = quality == "auto" ? streamable.first
            : (streamable.first { $0.quality?.lowercased() == quality.lowercased() } ?? streamable.first)
        guard let chosen else {
            throw APIError.handler(status: 404, message: quality == "auto" ? "No suitable quality source available" : "No \(quality) quality source available")
        }
        return chosen
    }

    /// The quality path parameter, validated.
    static func quality(_ request: Request) throws -> String {
        guard let quality = qualities.first(where: { $0.lowercased() == (request.parameter("quality") ?? "").lowercased() }) else {
            throw APIError.validation([ValidationIssue(path: ["quality"], code: "invalid_value", message: "quality must be one of \(qualities.joined(separator: ", "))")])
        }
        return quality
    }

    /// A new streaming key for `userId`: ≥ 240 random bits after the user id.
    static func newKey(userId: String) -> String { userId + ":" + Encoding.base64URL(SecureRandom.bytes(30)) }

    /// A source an admin supplies, validated: a magnet or a base64 .torrent (bounded decoder,
    /// sanitized paths), and an optional quality name.
    struct ParsedSource {
        var infoHash: InfoHash
        var magnet: Magnet
        var torrent: [UInt8]?
        var metainfo: Metainfo?
        var size: Int64
        var quality: Int?
    }

    static func parse(_ body: ManualSource) throws -> ParsedSource {
        var quality: Int?
        if let name = body.quality {
            guard let index = AppDatabase.qualities.firstIndex(where: { $0.lowercased() == name.lowercased() }) else {
                throw APIError.validation([ValidationIssue(path: ["quality"], code: "invalid_value", message: "quality must be one of \(AppDatabase.qualities.joined(separator: ", "))")])
            }
            quality = index
        }
        let infoHash: InfoHash
        var magnet: Magnet
        var torrentBytes: [UInt8]?
        var parsedInfo: Metainfo?
        var size: Int64 = 0
        switch (body.magnet, body.torrent) {
        case let (link?, nil):
            do { magnet = try Magnet.parse(link) } catch {
                throw APIError.validation([ValidationIssue(path: ["magnet"], code: "invalid_format", message: "Not a valid magnet link (\(error))")])
            }
            infoHash = magnet.infoHash
        case let (nil, encoded?):
            guard let bytes = Encoding.fromBase64(encoded), !bytes.isEmpty else {
                throw APIError.validation([ValidationIssue(path: ["torrent"], code: "invalid_format", message: "torrent must be base64")])
            }
            let metainfo: Metainfo
            do { metainfo = try Metainfo.parse(bytes, sha1: { Digest.sha1($0) }) } catch {
                throw APIError.validation([ValidationIssue(path: ["torrent"], code: "invalid_torrent", message: "Not a valid .torrent: \(error)")])
            }
            infoHash = metainfo.infoHash
            magnet = Magnet(infoHash: infoHash, displayName: metainfo.name, trackers: metainfo.trackerTiers.flatMap { $0 })
            torrentBytes = bytes
            parsedInfo = metainfo
            size = metainfo.totalLength
        default:
            throw APIError.validation([ValidationIssue(path: [], code: "custom", message: "Send exactly one of magnet or torrent")])
        }
        return ParsedSource(infoHash: infoHash, magnet: magnet, torrent: torrentBytes, metainfo: parsedInfo, size: size, quality: quality)
    }

    /// The stored form of a streaming key.
    static func hash(_ key: String, secret: String) -> String {
        Encoding.hex(Digest.hmacSHA256(key: Array(secret.utf8), data: Array(key.utf8)))
    }

    func addSource(_ request: Request) throws -> Response {
        guard let cipher = environment.sourceCipher else { throw APIError.notConfigured(service: "SOURCE") }
        let body = try Body.decode(ManualSource.self, from: request)
        let movie = try movie(request)
        let parsed = try Self.parse(body)
        let (infoHash, magnet, torrentBytes, size, quality) = (parsed.infoHash, parsed.magnet, parsed.torrent, parsed.size, parsed.quality)
        let id = try ManualSources.attach(database: database, cipher: cipher, movieId: movie.id, infoHash: infoHash, magnet: magnet,
                                          torrent: torrentBytes, size: size, quality: quality, now: environment.clock.now())
        guard let id else { throw APIError.handler(status: 409, message: "This source is already attached to the movie") }
        auth.event(.userUpdate, .info, "Admin attached a source to movie \(movie.tmdbId)", email: request.identity?.email, request: request,
                   extra: ["tmdbId": .int(movie.tmdbId), "sourceId": .int(id)])
        return .json(MovieSourceDTO(id: id, quality: quality.map { AppDatabase.qualities[$0] }, size: Int(size), videoCodec: nil,
                                    broadcasters: nil, watchers: nil, source: nil, hasDataFile: torrentBytes != nil), status: 201)
    }
}

/// Attaching a source an admin supplies (route and `miauflix source add`): everything that
/// identifies it is encrypted at rest, the info-hash deterministically (duplicates are found).
public enum ManualSources {
    /// The new source's id, or nil when the movie already has this info-hash.
    public static func attach(database: AppDatabase, cipher: FieldCipher, movieId: Int, infoHash: InfoHash, magnet: Magnet,
                              torrent: [UInt8]?, size: Int64, quality: Int?, now: Date) throws -> Int? {
        try database.addMovieSource(
            movieId: movieId, encryptedInfoHash: cipher.encryptString(infoHash.hex, deterministic: true),
            encryptedMagnet: cipher.encryptString(magnet.uri), encryptedURL: nil,
            encryptedFile: torrent.map { Data(cipher.encrypt($0)) }, quality: quality, size: size, videoCodec: nil,
            provider: "MANUAL", now: now)
    }
}
