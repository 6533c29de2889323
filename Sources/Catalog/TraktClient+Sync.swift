import Foundation
import HTTPClient

/// A title as Trakt's sync API names it (by TMDB ids).
public enum TraktItem: Sendable, Equatable, Hashable {
    case movie(tmdbId: Int)
    case episode(showTmdbId: Int, season: Int, episode: Int)
}

/// One entry of a user's Trakt watchlist.
public struct TraktWatchlistEntry: Sendable, Equatable {
    public enum Kind: String, Sendable { case movie, show }
    public var kind: Kind
    public var tmdbId: Int
    public var title: String
    public var year: Int?
    public var listedAt: Date?
}

/// A paused playback Trakt knows (progress in percent).
public struct TraktPlayback: Sendable, Equatable {
    public var item: TraktItem
    public var progress: Double
    public var pausedAt: Date?
}

/// Two-way sync (Trakt API v2): scrobbles pushed as a player starts, pauses and stops;
/// watched history, paused playbacks and the watchlist pulled. Answers are decoded leniently
/// (entries without a TMDB id are skipped) and bounded by the client's body cap.
extension TraktClient {
    func authorized(_ token: String) -> [String] { headers + ["Authorization: Bearer \(token)"] }

    func getJSON(_ path: String, token: String) throws(TraktError) -> Any {
        let response: HTTPResponse
        do { response = try http.get(baseURL + path, headers: authorized(token), budget: 8) } catch { throw .upstream }
        if response.status == 401 || response.status == 403 { throw .rejected }
        guard (200..<300).contains(response.status), let object = try? JSONSerialization.jsonObject(with: Data(response.body)) else { throw .upstream }
        return object
    }

    static func body(for item: TraktItem) -> [String: Any] {
        switch item {
        case let .movie(tmdbId): return ["movie": ["ids": ["tmdb": tmdbId]]]
        case let .episode(show, season, episode): return ["show": ["ids": ["tmdb": show]], "episode": ["season": season, "number": episode]]
        }
    }

    /// `POST /scrobble/{start|pause|stop}` with the progress in percent. Trakt answers 409
    /// when the same scrobble was just sent: that counts as done.
    public func scrobble(_ action: String, item: TraktItem, progress: Double, accessToken: String) throws(TraktError) {
        guard ["start", "pause", "stop"].contains(action) else { throw .upstream }
        var object = Self.body(for: item)
        object["progress"] = (min(100, max(0, progress)) * 100).rounded() / 100
        guard let json = try? JSONSerialization.data(withJSONObject: object) else { throw .upstream }
        let response: HTTPResponse
        do { response = try http.postJSON(baseURL + "/scrobble/" + action, json: Array(json), headers: authorized(accessToken), budget: 8) } catch {
            throw .upstream
        }
        if response.status == 401 || response.status == 403 { throw .rejected }
        guard (200..<300).contains(response.status) || response.status == 409 else { throw .upstream }
    }

    /// Everything the user has watched: `GET /sync/watched/movies` and `/sync/watched/shows`.
    public func watched(accessToken: String) throws(TraktError) -> [TraktItem] {
        var items: [TraktItem] = []
        for entry in (try getJSON("/sync/watched/movies", token: accessToken) as? [[String: Any]]) ?? [] {
            if let id = Self.tmdb(entry["movie"]) { items.append(.movie(tmdbId: id)) }
        }
        for entry in (try getJSON("/sync/watched/shows", token: accessToken) as? [[String: Any]]) ?? [] {
            guard let show = Self.tmdb(entry["show"]) else { continue }
            for season in (entry["seasons"] as? [[String: Any]]) ?? [] {
                guard let number = season["number"] as? Int else { continue }
                for episode in (season["episodes"] as? [[String: Any]]) ?? [] {
                    if let episodeNumber = episode["number"] as? Int { items.append(.episode(showTmdbId: show, season: number, episode: episodeNumber)) }
                }
            }
        }
        return items
    }

    /// Paused playbacks: `GET /sync/playback`.
    public func playback(accessToken: String) throws(TraktError) -> [TraktPlayback] {
        ((try getJSON("/sync/playback", token: accessToken) as? [[String: Any]]) ?? []).compactMap { entry in
            guard let progress = (entry["progress"] as? NSNumber)?.doubleValue else { return nil }
            let paused = (entry["paused_at"] as? String).flatMap(Self.date)
            if entry["type"] as? String == "movie", let id = Self.tmdb(entry["movie"]) {
                return TraktPlayback(item: .movie(tmdbId: id), progress: progress, pausedAt: paused)
            }
            if entry["type"] as? String == "episode", let show = Self.tmdb(entry["show"]), let episode = entry["episode"] as? [String: Any],
               let season = episode["season"] as? Int, let number = episode["number"] as? Int {
                return TraktPlayback(item: .episode(showTmdbId: show, season: season, episode: number), progress: progress, pausedAt: paused)
            }
            return nil
        }
    }

    /// Movies and shows on the watchlist: `GET /sync/watchlist` (seasons and episodes skipped).
    public func watchlist(accessToken: String) throws(TraktError) -> [TraktWatchlistEntry] {
        ((try getJSON("/sync/watchlist", token: accessToken) as? [[String: Any]]) ?? []).compactMap { entry in
            guard let type = entry["type"] as? String, let kind = TraktWatchlistEntry.Kind(rawValue: type),
                  let object = entry[type] as? [String: Any], let id = Self.tmdb(object) else { return nil }
            return TraktWatchlistEntry(kind: kind, tmdbId: id, title: String(((object["title"] as? String) ?? "").prefix(300)),
                                       year: object["year"] as? Int, listedAt: (entry["listed_at"] as? String).flatMap(Self.date))
        }
    }

    static func tmdb(_ object: Any?) -> Int? {
        guard let ids = (object as? [String: Any])?["ids"] as? [String: Any], let id = ids["tmdb"] as? Int, id > 0 else { return nil }
        return id
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
