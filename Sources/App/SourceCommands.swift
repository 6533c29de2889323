import API
import BitTorrentCore
import Crypto
import Foundation
import Logging
import Persistence

/// `miauflix source add`: attaches a .torrent or magnet to a movie from the command line
/// (the demo seeder uses it; admins can too, like `POST /api/admin/movies/:tmdbId/sources`).
public enum SourceCommands {
    public enum Failure: Error, CustomStringConvertible {
        case invalid(String)
        case duplicate

        public var description: String {
            switch self {
            case let .invalid(reason): return reason
            case .duplicate: return "this source is already attached to the movie"
            }
        }
    }

    /// The new source's id (the movie is fetched from TMDB first if the database lacks it).
    public static func add(configuration: Configuration, tmdbId: Int, torrentPath: String?, magnetLink: String?,
                           quality: String?, logger: Logger) throws -> Int {
        guard let cipher = configuration.fieldCipher else { throw Failure.invalid("SOURCE_SECURITY_KEY is not set") }
        let database = try configuration.openDatabase()
        let tmdb = configuration.tmdbClient(logger: logger, database: database)
        let movie = try DatabaseFirstMovies(database: database, source: tmdb, budget: 10, logger: logger).movie(tmdbId: tmdbId, language: "en")
        var qualityIndex: Int?
        if let quality {
            guard let index = AppDatabase.qualities.firstIndex(where: { $0.lowercased() == quality.lowercased() }) else {
                throw Failure.invalid("quality must be one of \(AppDatabase.qualities.joined(separator: ", "))")
            }
            qualityIndex = index
        }
        let magnet: Magnet
        var torrent: [UInt8]?
        var size: Int64 = 0
        switch (torrentPath, magnetLink) {
        case let (path?, nil):
            guard let data = FileManager.default.contents(atPath: path), data.count <= 8 << 20 else { throw Failure.invalid("cannot read \(path) (at most 8 MB)") }
            let metainfo: Metainfo
            do { metainfo = try Metainfo.parse(Array(data), sha1: Digest.sha1) } catch { throw Failure.invalid("not a valid .torrent: \(error)") }
            magnet = Magnet(infoHash: metainfo.infoHash, displayName: metainfo.name, trackers: metainfo.trackerTiers.flatMap { $0 })
            torrent = Array(data)
            size = metainfo.totalLength
        case let (nil, link?):
            do { magnet = try Magnet.parse(link) } catch { throw Failure.invalid("not a valid magnet link: \(error)") }
        default:
            throw Failure.invalid("give exactly one of --torrent or --magnet")
        }
        guard let id = try ManualSources.attach(database: database, cipher: cipher, movieId: movie.id, infoHash: magnet.infoHash,
                                                magnet: magnet, torrent: torrent, size: size, quality: qualityIndex, now: Date()) else {
            throw Failure.duplicate
        }
        return id
    }
}

extension SourceCommands {
    /// `miauflix source search-next`: one background search run now (the engine runs it on
    /// schedule). True when a movie was due.
    public static func searchNext(configuration: Configuration, logger: Logger) throws -> Bool {
        let database = try configuration.openDatabase()
        guard let discovery = configuration.sourceDiscovery(database: database, logger: logger) else { throw Failure.invalid("SOURCE_SECURITY_KEY is not set") }
        return try discovery.searchNext()
    }

    /// `miauflix source fetch-files`: .torrent retrieval for up to `limit` sources now.
    public static func fetchFiles(configuration: Configuration, limit: Int, logger: Logger) throws -> Int {
        let database = try configuration.openDatabase()
        guard let cipher = configuration.fieldCipher else { throw Failure.invalid("SOURCE_SECURITY_KEY is not set") }
        let job = TorrentFileJob(database: database, cipher: cipher, fetcher: configuration.torrentFileFetcher(logger: logger), logger: logger)
        var runs = 0
        while runs < limit, try job.fetchNext() { runs += 1 }
        return runs
    }

    /// `miauflix source scrape`: one tracker-stats run now.
    public static func scrape(configuration: Configuration, logger: Logger) throws -> Int {
        let database = try configuration.openDatabase()
        guard let cipher = configuration.fieldCipher else { throw Failure.invalid("SOURCE_SECURITY_KEY is not set") }
        return try TrackerStatsJob(database: database, cipher: cipher, trackers: ConfigValueParser.list(configuration.string("SCRAPE_TRACKERS")),
                                   client: configuration.trackerClient(logger: logger), logger: logger).scrapeDue()
    }
}
