import BitTorrentCore
import Crypto
import Domain
import Foundation
import Persistence
import SourceLogic
import WebCore

/// TV episodes end to end (contract "Add"):
/// - `POST /api/shows/:tmdbId/:season/:episode/:quality` — Watch Now for an episode: the
///   best source holding it (a single-episode torrent, else a season pack; the engine serves
///   the episode's file inside the pack), a streaming key bound to user + episode + source.
///   A show without sources for that season is searched on demand (1.2 s), and from then on
///   in the background (the show is marked as being watched).
/// - `POST /api/admin/shows/:tmdbId/sources` `{magnet|torrent, season, episode?, quality?}` —
///   an admin attaches an episode or a season pack the directories miss.
struct EpisodeStreamRoutes {
    let environment: APIEnvironment
    let database: AppDatabase
    let shows: any ShowCatalog
    let auth: AuthRoutes

    struct ManualEpisodeSource: Decodable {
        var magnet: String?
        var torrent: String?
        var quality: String?
        var season: Int
        var episode: Int?
    }

    struct AttachedDTO: Encodable {
        var id: Int
        var season: Int
        var episode: Int?
        var quality: String?
        var size: Int
        var hasDataFile: Bool
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("POST", "/api/shows/:tmdbId/:season/:episode/:quality", limit: 5, access: .member) { try watch($0) }
        routes.on("POST", "/api/admin/shows/:tmdbId/sources", limit: 1, access: .admin) { try addSource($0) }
    }

    static func number(_ request: Request, _ name: String, range: ClosedRange<Int>) throws -> Int {
        guard let value = request.parameter(name).flatMap({ Int($0) }), range.contains(value) else {
            throw APIError.validation([ValidationIssue(path: [name], code: "invalid_value", message: "\(name) must be a number from \(range.lowerBound) to \(range.upperBound)")])
        }
        return value
    }

    /// The stored episode, fetching the show and the season (database first) on a miss.
    func episode(showTmdbId: Int, season: Int, episode: Int) throws -> EpisodeRef {
        if let found = try database.episodeRef(showTmdbId: showTmdbId, season: season, episode: episode) { return found }
        do {
            _ = try shows.show(tmdbId: showTmdbId, language: "en")
            _ = try shows.season(showTmdbId: showTmdbId, number: season)
        } catch {
            throw CatalogRoutes.apiError(error, notFound: "Episode not found")
        }
        guard let found = try database.episodeRef(showTmdbId: showTmdbId, season: season, episode: episode) else {
            throw APIError.handler(status: 404, message: "Episode not found")
        }
        return found
    }

    func watch(_ request: Request) throws -> Response {
        let quality = try StreamKeyRoutes.quality(request)
        let showTmdbId = try CatalogRoutes.tmdbID(request.parameter("tmdbId"))
        let (seasonNumber, episodeNumber) = (try Self.number(request, "season", range: 0...1000), try Self.number(request, "episode", range: 1...100_000))
        guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
        let target = try episode(showTmdbId: showTmdbId, season: seasonNumber, episode: episodeNumber)
        try database.markShowWatching(showId: target.showId)
        // A season pack whose file list is known must hold the episode.
        func candidates() throws -> [StreamableSource] {
            try database.episodeSources(showId: target.showId, season: seasonNumber, episode: episodeNumber)
                .filter { !$0.isPack || !$0.hasFile || packHolds($0.id, season: seasonNumber, episode: episodeNumber) }
        }
        var sources = try candidates()
        if sources.isEmpty {
            environment.sourceSearch?.searchShowIfNeeded(showId: target.showId, budget: 1.2)
            sources = try candidates()
        }
        guard !sources.isEmpty else { throw APIError.handler(status: 404, message: "No sources available for this episode") }
        let source = try StreamKeyRoutes.choose(sources, quality: quality, hevc: request.query["hevc"] == "true")
        return try StreamKeyRoutes.issueKey(environment, userId: identity.userId, source: source) { keyHash, expiresAt, now in
            try database.issueEpisodeStreamingKey(keyHash: keyHash, userId: identity.userId, episodeId: target.episodeId,
                                                  sourceId: source.id, expiresAt: expiresAt, now: now)
        }
    }

    /// Whether a stored season pack has a video for the episode (its .torrent decrypted and
    /// parsed; an unreadable one is given the benefit of the doubt, the engine answers 404).
    func packHolds(_ sourceId: Int, season: Int, episode: Int) -> Bool {
        guard let cipher = environment.sourceCipher, let row = try? database.sourceTorrent(id: sourceId), let encrypted = row.encryptedFile,
              let bytes = try? cipher.decrypt(Array(encrypted)), let metainfo = try? Metainfo.parse(bytes, sha1: { Digest.sha1($0) }) else { return true }
        return EpisodeFile.pick(files: metainfo.files.map { (path: $0.path, length: $0.length) }, season: season, episode: episode) != nil
    }

    func addSource(_ request: Request) throws -> Response {
        guard let cipher = environment.sourceCipher else { throw APIError.notConfigured(service: "SOURCE") }
        let body = try Body.decode(ManualEpisodeSource.self, from: request)
        guard (0...1000).contains(body.season), (body.episode ?? 1) >= 1 else {
            throw APIError.validation([ValidationIssue(path: ["season"], code: "invalid_value", message: "season 0–1000 and episode ≥ 1 (omit it for a season pack)")])
        }
        let parsed = try StreamKeyRoutes.parse(.init(magnet: body.magnet, torrent: body.torrent, quality: body.quality))
        let showTmdbId = try CatalogRoutes.tmdbID(request.parameter("tmdbId"))
        let show: Show
        do { show = try shows.show(tmdbId: showTmdbId, language: "en") } catch { throw CatalogRoutes.apiError(error, notFound: "Show not found") }
        if let metainfo = parsed.metainfo, let episode = body.episode,
           EpisodeFile.pick(files: metainfo.files.map { (path: $0.path, length: $0.length) }, season: body.season, episode: episode) == nil {
            throw APIError.validation([ValidationIssue(path: ["torrent"], code: "custom", message: "The torrent holds no video for S\(body.season)E\(episode)")])
        }
        let source = DiscoveredSource(encryptedInfoHash: cipher.encryptString(parsed.infoHash.hex, deterministic: true),
                                      encryptedMagnet: cipher.encryptString(parsed.magnet.uri), encryptedURL: nil, quality: parsed.quality,
                                      videoCodec: nil, releaseType: nil, size: parsed.size, seeders: nil, leechers: nil, provider: "MANUAL",
                                      uploadedAt: nil, streamingScore: parsed.torrent == nil ? 0 : 1)
        guard let id = try database.saveShowSource(showId: show.id, season: body.season, episode: body.episode, source,
                                                   encryptedFile: parsed.torrent.map { Data(cipher.encrypt($0)) }, now: environment.clock.now()) else {
            throw APIError.handler(status: 409, message: "This source is already attached to the show")
        }
        auth.event(.userUpdate, .info, "Admin attached a source to show \(showTmdbId)", email: request.identity?.email, request: request,
                   extra: ["tmdbId": .int(showTmdbId), "sourceId": .int(id), "season": .int(body.season)])
        return .json(AttachedDTO(id: id, season: body.season, episode: body.episode, quality: parsed.quality.map { AppDatabase.qualities[$0] },
                                 size: Int(parsed.size), hasDataFile: parsed.torrent != nil), status: 201)
    }
}
