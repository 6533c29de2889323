import BitTorrentCore
import Catalog
import Crypto
import Foundation
import Logging
import Persistence
import SourceLogic
import TorrentEngine

/// Finds sources for movies (reference §3.5): every directory in order (YTS, then
/// TheRARBG), results merged, encrypted and scored, saved in one transaction. A movie whose
/// every directory failed is tried again in 45–75 min; one that got sources is re-searched
/// weekly for new releases.
struct SourceDiscovery: Sendable {
    let database: AppDatabase
    let cipher: FieldCipher
    let directories: [any ContentDirectory]
    let logger: Logger
    /// The IMDb id of a TMDB movie (its details), for movies known only from lists.
    /// Throws when TMDB is unreachable (the movie is then asked again in 45–75 min, not in a week).
    var imdbLookup: (@Sendable (Int) throws -> String?)? = nil

    /// Background job: one movie per run. True when there was one.
    @discardableResult
    func searchNext(now: Date = Date()) throws -> Bool {
        if try database.nextSearchTarget(now: now) == nil, let imdbLookup, let bare = try database.nextMovieWithoutImdb(now: now) {
            do {
                try database.setImdb(movieId: bare.movieId, imdbId: imdbLookup(bare.tmdbId), retryAt: now.addingTimeInterval(7 * 86400))
            } catch {
                // An outage is not "TMDB has no IMDb id": ask again soon, and let the run fail
                // (the job backs off while TMDB is down).
                var random = SystemRandomNumberGenerator()
                try database.setImdb(movieId: bare.movieId, imdbId: nil, retryAt: now.addingTimeInterval(Double.random(in: 2700...4500, using: &random)))
                logger.warning("imdb lookup failed", metadata: ["event": "imdb_lookup_failed", "movie": "\(bare.movieId)", "error": "\(error)"])
                throw error
            }
        }
        guard let target = try database.nextSearchTarget(now: now) else { return false }
        try search(target, onDemand: false, now: now)
        return true
    }

    /// Searches one movie now and saves what it finds.
    func search(_ target: SearchTarget, onDemand: Bool, now: Date = Date()) throws {
        var found: [DirectorySource] = []
        var answered: [String] = []
        var trailer: String?
        for directory in directories {
            do {
                let result = try directory.movie(imdbId: target.imdbId, onDemand: onDemand)
                answered.append(directory.name)
                found += result.sources
                trailer = trailer ?? result.trailer
            } catch {
                logger.warning("directory unavailable", metadata: ["event": "directory_failed", "directory": "\(directory.name)",
                                                                    "movie": "\(target.movieId)", "error": "\(error)"])
            }
        }
        var random = SystemRandomNumberGenerator()
        let retry: TimeInterval = answered.isEmpty || found.isEmpty ? Double.random(in: 2700...4500, using: &random) : 7 * 86400
        let sources = found.map { encode($0, runtime: target.runtime) }
        let added = try database.saveSearch(movieId: target.movieId, sources: sources, directories: answered, trailer: trailer,
                                            nextSearchAt: now.addingTimeInterval(retry), now: now)
        logger.info("source search", metadata: ["event": "source_search", "movie": "\(target.movieId)", "found": "\(found.count)",
                                                "added": "\(added)", "directories": "\(answered.joined(separator: ","))", "on_demand": "\(onDemand)"])
    }

    /// Background job: one show someone watches per run (its episode sources). True when
    /// there was one.
    @discardableResult
    func searchNextShow(now: Date = Date()) throws -> Bool {
        guard let target = try database.nextShowSearchTarget(now: now) else { return false }
        try searchShow(target, onDemand: false, now: now)
        return true
    }

    /// Searches a show's episode sources: every post whose name says a season (a pack) or
    /// a season and episode is kept; others (extras, whole-series bundles) are dropped. A show
    /// is searched again daily (new episodes air), sooner after a failure.
    func searchShow(_ target: ShowSearchTarget, onDemand: Bool, now: Date = Date()) throws {
        var found: [DirectorySource] = []
        var answered = 0
        for directory in directories {
            do {
                found += try directory.show(imdbId: target.imdbId, onDemand: onDemand).sources
                answered += 1
            } catch {
                logger.warning("directory unavailable", metadata: ["event": "directory_failed", "directory": "\(directory.name)",
                                                                    "show": "\(target.showId)", "error": "\(error)"])
            }
        }
        var added = 0
        for source in found {
            guard let season = source.info.season else { continue }
            if try database.saveShowSource(showId: target.showId, season: season, episode: source.info.episode,
                                           encode(source, runtime: source.info.episode == nil ? target.runtime * 10 : target.runtime), now: now) != nil {
                added += 1
            }
        }
        var random = SystemRandomNumberGenerator()
        let retry: TimeInterval = answered == 0 ? Double.random(in: 2700...4500, using: &random) : 86400
        try database.showSearched(showId: target.showId, nextSearchAt: now.addingTimeInterval(retry), now: now)
        logger.info("show source search", metadata: ["event": "show_source_search", "show": "\(target.showId)", "found": "\(found.count)",
                                                     "added": "\(added)", "on_demand": "\(onDemand)"])
    }

    func encode(_ source: DirectorySource, runtime: Int) -> DiscoveredSource {
        var info = source.info
        if info.quality == nil {
            info.quality = ReleaseNameParser.estimateQuality(size: source.size, runtimeMinutes: runtime, codec: info.videoCodec)
        }
        var magnet = "magnet:?xt=urn:btih:\(source.infoHash)&dn=" + (source.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        for tracker in source.trackers.prefix(20) {
            magnet += "&tr=" + (tracker.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        }
        let score = StreamingScore.score(.init(quality: info.quality, codec: info.videoCodec, releaseType: info.releaseType, size: source.size,
                                               seeders: source.seeders, leechers: source.leechers, is3D: info.is3D))
        let quality = info.is3D ? AppDatabase.qualities.firstIndex(of: "3D") : info.quality.flatMap { AppDatabase.qualities.firstIndex(of: $0.rawValue) }
        return DiscoveredSource(
            encryptedInfoHash: cipher.encryptString(source.infoHash, deterministic: true), encryptedMagnet: cipher.encryptString(magnet),
            encryptedURL: source.torrentURL.map { cipher.encryptString($0) }, quality: quality,
            videoCodec: info.videoCodec.flatMap { AppDatabase.videoCodecs.firstIndex(of: $0.rawValue) },
            releaseType: info.releaseType.flatMap { AppDatabase.releaseTypes.firstIndex(of: $0.rawValue) }, size: source.size,
            seeders: source.seeders, leechers: source.leechers, provider: source.provider, uploadedAt: source.uploadedAt, streamingScore: score)
    }
}

/// The .torrent job (reference §3.7): one source per run — the directory's URL, then the
/// caches; a file counts only when it parses and its info-hash is the source's. Failures
/// back off (10 min doubling, capped at a day).
struct TorrentFileJob: Sendable {
    let database: AppDatabase
    let cipher: FieldCipher
    let fetcher: TorrentFileFetcher
    let logger: Logger
    /// In the engine: metadata from peers (BEP 9) when the directory and the caches fail.
    var peers: (@Sendable (Magnet) -> [UInt8]?)? = nil

    @discardableResult
    func fetchNext(now: Date = Date()) throws -> Bool {
        guard let source = try database.sourcesMissingFiles(now: now, limit: 1).first else { return false }
        guard let hash = try? cipher.decryptString(source.encryptedInfoHash) else {
            try database.fileAttemptFailed(id: source.id, nextAttemptAt: now.addingTimeInterval(86400))
            return true
        }
        let url = source.encryptedURL.flatMap { try? cipher.decryptString($0) }
        let result = fetcher.fetch(infoHash: hash, directURL: url) { bytes in
            (try? Metainfo.parse(bytes, sha1: Digest.sha1))?.infoHash.hex == hash.lowercased()
        }
        for origin in result.rejected {
            logger.warning("torrent file rejected", metadata: ["event": "torrent_file_rejected", "source": "\(source.id)", "origin": "\(origin)", "reason": "info_hash_mismatch"])
        }
        var found = result.found
        if found == nil, let peers, let magnetText = try? database.sourceMagnet(id: source.id).flatMap({ try? cipher.decryptString($0) }),
           let magnet = try? Magnet.parse(magnetText), let bytes = peers(magnet),
           (try? Metainfo.parse(bytes, sha1: Digest.sha1))?.infoHash.hex == hash.lowercased() {
            found = ("peers", bytes)
        }
        if let found {
            try database.storeFetchedTorrent(id: source.id, encryptedFile: Data(cipher.encrypt(found.bytes)), now: now)
            logger.info("torrent file stored", metadata: ["event": "torrent_file_stored", "source": "\(source.id)", "origin": "\(found.origin)"])
        } else {
            let wait = min(86400, 600 * pow(2, Double(min(source.attempts, 10))))
            try database.fileAttemptFailed(id: source.id, nextAttemptAt: now.addingTimeInterval(wait))
        }
        return true
    }
}

/// Tracker stats (reference §3.8): up to 5 due sources per run, scraped in one request per
/// tracker of SCRAPE_TRACKERS (first tracker that answers wins); seeders → broadcasters,
/// leechers → watchers, the streaming score follows, and the next check adapts (6–72 h).
struct TrackerStatsJob: Sendable {
    let database: AppDatabase
    let cipher: FieldCipher
    let trackers: [String]
    let client: NetworkTrackerClient
    let logger: Logger

    @discardableResult
    func scrapeDue(now: Date = Date()) throws -> Int {
        let due = try database.sourcesDueForStats(now: now, limit: 5)
        guard !due.isEmpty, !trackers.isEmpty else { return 0 }
        var hashes: [Int: InfoHash] = [:]
        for source in due {
            if let hex = try? cipher.decryptString(source.encryptedInfoHash), let hash = InfoHash(hex: hex) { hashes[source.id] = hash }
        }
        var counts: [InfoHash: (seeders: Int, leechers: Int, completed: Int)] = [:]
        for tracker in trackers {
            if let answer = try? client.scrape(url: tracker, infoHashes: Array(Set(hashes.values))), !answer.isEmpty {
                counts = answer
                break
            }
        }
        var random = SystemRandomNumberGenerator()
        for source in due {
            let previous = source.lastCheck.flatMap { last in source.nextCheck.map { $0.timeIntervalSince(last) } }
            guard let hash = hashes[source.id], let count = counts[hash] else {
                try database.saveStats(id: source.id, seeders: nil, leechers: nil, streamingScore: nil,
                                       nextCheck: now.addingTimeInterval(StatsSchedule.minimum), now: now)
                continue
            }
            let old = source.seeders.map { ($0, source.leechers ?? 0) }
            let interval = StatsSchedule.next(previousInterval: previous, old: old, new: (count.seeders, count.leechers),
                                              jitter: Double.random(in: 0...1, using: &random))
            func name<T: RawRepresentable>(_ list: [String], _ index: Int?, _ type: T.Type) -> T? where T.RawValue == String {
                index.flatMap { list.indices.contains($0) ? T(rawValue: list[$0]) : nil }
            }
            let score = StreamingScore.score(.init(
                quality: name(AppDatabase.qualities, source.quality, ReleaseInfo.Quality.self),
                codec: name(AppDatabase.videoCodecs, source.videoCodec, ReleaseInfo.VideoCodec.self),
                releaseType: name(AppDatabase.releaseTypes, source.releaseType, ReleaseInfo.ReleaseType.self),
                size: source.size, seeders: count.seeders, leechers: count.leechers))
            try database.saveStats(id: source.id, seeders: count.seeders, leechers: count.leechers, streamingScore: score,
                                   nextCheck: now.addingTimeInterval(interval), now: now)
        }
        logger.info("tracker stats", metadata: ["event": "tracker_stats", "sources": "\(due.count)", "answered": "\(counts.count)"])
        return due.count
    }
}
