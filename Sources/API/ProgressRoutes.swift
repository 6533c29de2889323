import Domain
import Foundation
import Persistence
import WebCore

/// Watch progress and Continue Watching (contract "Add"; the reference's `/api/progress`
/// routes were unauthenticated stubs):
/// - `POST /api/progress` records where a user is in a movie or an episode: the reference's
///   body (`type`, `progress` 0–1, `status`, `movieId` | `showId`+`season`+`episode`) plus
///   `position`/`duration` in seconds. One upsert, so players may call it every few seconds.
///   A title counts as watched past `WATCHED_THRESHOLD` or with `status: completed`. 204.
/// - `GET /api/progress` the user's progress, most recent first (`?movieId=` / `?showId=`).
/// - `GET /api/lists/continue-watching` (also `/api/list/continue-watching`): partly watched
///   movies and, per show, the episode to play next.
struct ProgressRoutes {
    let environment: APIEnvironment
    let database: AppDatabase
    let movies: (any MovieCatalog)?
    let shows: (any ShowCatalog)?

    /// A TMDB id sent as a number or as a string (the reference declares strings).
    struct FlexibleID: Decodable {
        var value: Int?
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) { value = number } else { value = Int(try container.decode(String.self)) }
        }
    }

    struct ProgressBody: Decodable {
        var type: String
        var progress: Double?
        var status: String?
        var movieId: FlexibleID?
        var showId: FlexibleID?
        var season: Int?
        var episode: Int?
        var position: Double?
        var duration: Double?
    }

    struct ProgressDTO: Encodable {
        var type: String
        var movieId: Int?
        var showId: Int?
        var season: Int?
        var episode: Int?
        var progress: Double
        var position: Double
        var duration: Double
        var status: String
        var watched: Bool
        var updatedAt: Date

        init(_ item: WatchProgress) {
            type = item.title.kind
            movieId = type == "movie" ? item.title.tmdbId : nil
            showId = type == "episode" ? item.title.tmdbId : nil
            season = item.title.season
            episode = item.title.episode
            progress = (item.fraction * 10_000).rounded() / 10_000
            position = item.positionSeconds
            duration = item.durationSeconds
            status = item.status
            watched = item.watched
            updatedAt = item.updatedAt
        }
    }

    struct ContinueDTO: Encodable {
        var type: String
        var tmdbId: Int
        var title: String
        var poster: String
        var backdrop: String
        var season: Int?
        var episode: Int?
        var episodeName: String?
        var still: String?
        var position: Double
        var duration: Double
        var progress: Double
        var next: Bool
        var updatedAt: Date

        init(_ entry: ContinueWatchingEntry) {
            type = entry.title.kind
            tmdbId = entry.title.tmdbId
            season = entry.title.season
            episode = entry.title.episode
            title = entry.name
            poster = entry.poster
            backdrop = entry.backdrop
            episodeName = entry.episodeName
            still = entry.still
            position = entry.positionSeconds
            duration = entry.durationSeconds
            progress = (entry.fraction * 10_000).rounded() / 10_000
            next = entry.isNextEpisode
            updatedAt = entry.updatedAt
        }
    }

    struct ContinuePage: Encodable {
        struct ListRef: Encodable {
            var name = "Continue Watching"
            var slug = "continue-watching"
        }
        var results: [ContinueDTO]
        var total: Int
        var list = ListRef()
    }

    static let statuses = ["watching", "paused", "completed"]
    /// Past this fraction of an episode the next one is prefetched.
    static let nextEpisodePrefetchAt = 0.7

    func register(_ routes: inout RouteBuilder) {
        routes.on("POST", "/api/progress", limit: 10, access: .member) { try record($0) }
        routes.on("GET", "/api/progress", limit: 10, access: .signedIn) { try list($0) }
        routes.on("GET", "/api/lists/continue-watching", limit: 10, access: .signedIn) { try continueWatching($0) }
        routes.on("GET", "/api/list/continue-watching", limit: 10, access: .signedIn) { try continueWatching($0) }
        routes.on("GET", "/api/lists/trakt-watchlist", limit: 10, access: .signedIn) { try watchlist($0) }
        routes.on("GET", "/api/list/trakt-watchlist", limit: 10, access: .signedIn) { try watchlist($0) }
    }

    func record(_ request: Request) throws -> Response {
        guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
        let body = try Body.decode(ProgressBody.self, from: request)
        var issues: [ValidationIssue] = []
        func issue(_ path: String, _ message: String) { issues.append(ValidationIssue(path: [path], code: "invalid_value", message: message)) }
        if body.type != "movie" && body.type != "episode" { issue("type", "type must be movie or episode") }
        if let progress = body.progress, !(0...1).contains(progress) { issue("progress", "progress must be between 0 and 1") }
        if let position = body.position, !(position.isFinite && position >= 0 && position < 1e7) { issue("position", "position must be seconds ≥ 0") }
        if let duration = body.duration, !(duration.isFinite && duration > 0 && duration < 1e7) { issue("duration", "duration must be seconds > 0") }
        if body.progress == nil && (body.position == nil || body.duration == nil) { issue("progress", "send progress (0–1) or position and duration") }
        let status = body.status ?? "watching"
        if !Self.statuses.contains(status) { issue("status", "status must be watching, paused or completed") }
        if body.type == "movie", body.movieId?.value == nil { issue("movieId", "movieId (a TMDB id) is required") }
        if body.type == "episode" {
            if body.showId?.value == nil { issue("showId", "showId (a TMDB id) is required") }
            if (body.season ?? -1) < 0 || (body.season ?? -1) > 1000 { issue("season", "season must be 0 to 1000") }
            if (body.episode ?? 0) < 1 || (body.episode ?? 0) > 100_000 { issue("episode", "episode must be 1 or more") }
        }
        if !issues.isEmpty { throw APIError.validation(issues) }

        let duration = body.duration ?? 0
        let position = body.position.map { duration > 0 ? min($0, duration) : $0 } ?? (body.progress ?? 0) * duration
        let fraction = duration > 0 && body.position != nil ? position / duration : (body.progress ?? 0)
        let watched = status == "completed" || fraction >= environment.watchedThreshold
        let now = environment.clock.now()
        if body.type == "movie" {
            let tmdbId = body.movieId!.value!
            var rowId = try database.movieRowId(tmdbId: tmdbId)
            if rowId == nil, let movies {
                rowId = try? movies.movie(tmdbId: tmdbId, language: "en").id
            }
            guard let rowId else { throw APIError.handler(status: 404, message: "Movie not found") }
            let before = try database.saveMovieProgress(userId: identity.userId, movieId: rowId, position: position, duration: duration,
                                                        fraction: fraction, status: status, watched: watched, now: now)
            scrobble(identity.userId, .movie(tmdbId: tmdbId), before: before, status: status, watched: watched, fraction: fraction, now: now)
        } else {
            let (show, season, episode) = (body.showId!.value!, body.season!, body.episode!)
            func save() throws -> ProgressBefore? {
                try database.saveEpisodeProgress(userId: identity.userId, showTmdbId: show, season: season, episode: episode,
                                                 position: position, duration: duration, fraction: fraction, status: status,
                                                 watched: watched, now: now)
            }
            var before = try save()
            if before == nil {
                // Not stored yet: the catalog fetches the show and season (database first).
                _ = try? shows?.show(tmdbId: show, language: "en")
                _ = try? shows?.season(showTmdbId: show, number: season)
                before = try save()
            }
            guard let before else { throw APIError.handler(status: 404, message: "Episode not found") }
            scrobble(identity.userId, .episode(showTmdbId: show, season: season, episode: episode), before: before, status: status,
                     watched: watched, fraction: fraction, now: now)
            if fraction >= Self.nextEpisodePrefetchAt {
                environment.prefetch?.nearlyWatched(showTmdbId: show, season: season, episode: episode, userId: identity.userId)
            }
        }
        return Response(status: 204, body: [])
    }

    /// Trakt two-way sync, push side: a player's state changes (started, paused, finished)
    /// are queued as scrobbles for a user who linked Trakt; the engine sends them. Reports
    /// that change nothing queue nothing, so the every-few-seconds calls stay one upsert.
    func scrobble(_ userId: String, _ title: WatchProgress.Title, before: ProgressBefore, status: String, watched: Bool, fraction: Double, now: Date) {
        let action: String
        if watched && !before.watched {
            action = "stop"
        } else if before.status != status && !(watched && before.watched) {
            action = status == "paused" ? "pause" : status == "completed" ? "stop" : "start"
        } else {
            return
        }
        guard (try? database.traktLink(userId: userId)) != nil else { return }
        do {
            try database.queueScrobble(userId: userId, action: action, title: title, progress: fraction * 100, now: now)
            environment.engineWaker?.wake("trakt-sync")
        } catch {
            environment.logger.warning("scrobble not queued", metadata: ["event": "trakt_scrobble_queue_failed", "error": "\(type(of: error))"])
        }
    }

    func list(_ request: Request) throws -> Response {
        guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
        let query = request.query
        func id(_ name: String) throws -> Int? {
            guard let text = query[name] else { return nil }
            guard let value = Int(text), value > 0 else {
                throw APIError.validation([ValidationIssue(path: [name], code: "invalid_value", message: "\(name) must be a TMDB id")])
            }
            return value
        }
        let items = try database.watchProgress(userId: identity.userId, movieTmdbId: try id("movieId"), showTmdbId: try id("showId"))
        struct Page: Encodable { var progress: [ProgressDTO] }
        return .json(Page(progress: items.map(ProgressDTO.init)))
    }

    struct WatchlistDTO: Encodable {
        var type: String
        var tmdbId: Int
        var title: String
        var year: Int?
        var poster: String?
        var backdrop: String?
        var listedAt: Date?
    }

    struct WatchlistPage: Encodable {
        struct ListRef: Encodable {
            var name = "Trakt Watchlist"
            var slug = "trakt-watchlist"
        }
        var results: [WatchlistDTO]
        var total: Int
        var linked: Bool
        var list = ListRef()
    }

    /// The user's Trakt watchlist as a list (pulled by the engine's trakt-sync job); empty
    /// with `linked: false` for a user without Trakt.
    func watchlist(_ request: Request) throws -> Response {
        guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
        let linked = try database.traktLink(userId: identity.userId) != nil
        let entries = linked ? try database.traktWatchlist(userId: identity.userId) : []
        return .json(WatchlistPage(results: entries.map {
            WatchlistDTO(type: $0.kind, tmdbId: $0.tmdbId, title: $0.title, year: $0.year, poster: $0.poster, backdrop: $0.backdrop, listedAt: $0.listedAt)
        }, total: entries.count, linked: linked))
    }

    func continueWatching(_ request: Request) throws -> Response {
        guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
        let today = String(ISO8601DateFormatter().string(from: environment.clock.now()).prefix(10))
        let entries = try database.continueWatching(userId: identity.userId, today: today)
        return .json(ContinuePage(results: entries.map(ContinueDTO.init), total: entries.count))
    }
}
