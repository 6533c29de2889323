import Catalog
import Crypto
import Foundation
import Logging
import Persistence

/// The engine's `trakt-sync` job (issue 9, two-way sync):
/// - push: scrobbles the API queued (start/pause/stop) go to Trakt with the user's token;
///   a network failure is retried with backoff (30 s doubling, up to an hour, 8 tries), a
///   rejected token or a removed link drops the scrobble;
/// - pull: every `pullInterval` per linked user, what Trakt says was watched marks stored
///   titles watched, paused playbacks become resume positions unless ours are newer, and the
///   watchlist is replaced (shown at `/api/lists/trakt-watchlist`).
struct TraktSync: Sendable {
    let database: AppDatabase
    let client: TraktClient
    let cipher: FieldCipher
    let logger: Logger
    var pullInterval: Double = 900

    /// One run; returns the work done (scrobbles sent + users pulled).
    func run(now: Date = Date()) throws -> Int {
        var done = 0
        for scrobble in try database.dueScrobbles(now: now, limit: 20) {
            guard let link = try database.traktLink(userId: scrobble.userId), let sealed = link.accessToken,
                  let token = try? cipher.decryptString(sealed) else {
                try database.deleteScrobble(id: scrobble.id)
                continue
            }
            do {
                try client.scrobble(scrobble.action, item: Self.item(scrobble.title), progress: scrobble.progress, accessToken: token)
                try database.deleteScrobble(id: scrobble.id)
                logger.info("trakt scrobble sent", metadata: ["event": "trakt_scrobble", "action": "\(scrobble.action)"])
                done += 1
            } catch TraktError.upstream where scrobble.attempts < 8 {
                try database.scrobbleFailed(id: scrobble.id, next: now.addingTimeInterval(min(3600, 30 * pow(2, Double(scrobble.attempts)))))
            } catch {
                try database.deleteScrobble(id: scrobble.id)
                logger.warning("trakt scrobble dropped", metadata: ["event": "trakt_scrobble_dropped", "error": "\(error)"])
            }
        }
        for link in try database.traktLinksToPull(before: now.addingTimeInterval(-pullInterval)) {
            guard let sealed = link.accessToken, let token = try? cipher.decryptString(sealed) else { continue }
            do {
                let watched = try database.applyTraktWatched(userId: link.userId, try client.watched(accessToken: token).map(Self.title), now: now)
                let paused = try database.applyTraktPlayback(userId: link.userId, try client.playback(accessToken: token).map {
                    (title: Self.title($0.item), fraction: $0.progress / 100, pausedAt: $0.pausedAt ?? now)
                })
                let watchlist = try client.watchlist(accessToken: token)
                try database.replaceTraktWatchlist(userId: link.userId, watchlist.map {
                    (kind: $0.kind.rawValue, tmdbId: $0.tmdbId, title: $0.title, year: $0.year, listedAt: $0.listedAt)
                })
                try database.markTraktPulled(id: link.id, now: now)
                logger.info("trakt pulled", metadata: ["event": "trakt_pull", "watched": "\(watched)", "resumed": "\(paused)",
                                                       "watchlist": "\(watchlist.count)"])
                done += 1
            } catch {
                // Tried again on the next interval.
                try database.markTraktPulled(id: link.id, now: now)
                logger.warning("trakt pull failed", metadata: ["event": "trakt_pull_failed", "error": "\(error)"])
            }
        }
        return done
    }

    static func item(_ title: WatchProgress.Title) -> TraktItem {
        switch title {
        case let .movie(tmdbId): return .movie(tmdbId: tmdbId)
        case let .episode(show, season, episode): return .episode(showTmdbId: show, season: season, episode: episode)
        }
    }

    static func title(_ item: TraktItem) -> WatchProgress.Title {
        switch item {
        case let .movie(tmdbId): return .movie(tmdbId: tmdbId)
        case let .episode(show, season, episode): return .episode(showTmdbId: show, season: season, episode: episode)
        }
    }
}
