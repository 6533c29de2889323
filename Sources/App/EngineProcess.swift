import API
import Crypto
import Domain
import FastCGI
import Foundation
import Logging
import NIOCore
import NIOPosix
import Persistence
import Scheduler
import SourceLogic
import SharedMemory
import StreamServer
import TorrentEngine
import HTTPClient
import WebCore

/// `miauflix engine`: the BitTorrent engine, the stream endpoint on a unix socket
/// (`/api/stream/:key` behind nginx) and the scheduler; keeps its heartbeat row fresh
/// (read by `/api/status`).
public enum EngineProcess {
    /// How often the engine records that it is alive.
    static let heartbeatInterval: Double = 5

    /// Runs until SIGTERM/SIGINT.
    public static func run(configuration: Configuration, logger: Logger) async throws {
        let database = try configuration.openDatabase()
        let startedAt = Date()
        let pid = Int(getpid())
        try database.recordEngineHeartbeat(pid: pid, startedAt: startedAt, now: startedAt)
        let stats = StatsRecorder(database: database, logger: logger)

        var router = Router()
        router.on("GET", "/api/stream/health") { _ in
            .json(EngineHealthDTO(status: "ok", uptimeSeconds: Int(Date().timeIntervalSince(startedAt))))
        }
        // One event loop holds every torrent and peer connection (serial state, no locks); a
        // second one writes streams to nginx, so a download burst does not starve players;
        // disk, hashing, database and tracker requests run on the thread pool.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let streamGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 3)
        pool.start()
        // The VPN kill switch (VPN_INTERFACE): looked at once before anything dials out, so
        // the engine starts closed when the tunnel is down.
        let vpn = configuration.vpnInterface.map { VPNMonitor(interface: $0, database: database, logger: logger) }
        var settings = configuration.engineSettings
        if let vpn {
            vpn.poll()
            settings.startsBlocked = !vpn.allowsTraffic
            let index = NetworkInterface.observe(vpn.interface).index
            settings.interfaceIndex = index == 0 ? nil : index
        }
        let engine = Engine(loop: group.next(), threadPool: pool, settings: settings,
                            tracker: configuration.trackerClient(logger: logger, stats: stats),
                            progress: DatabaseProgressSink(database: database, logger: logger), logger: logger,
                            webSeedClient: WebSeedHTTPClient(interface: configuration.curlInterface, stats: stats, logger: logger))
        await engine.start()
        let torrents = SourceTorrents(database: database, cipher: configuration.fieldCipher, engine: engine)
        let jobLedger = JobLedger()
        var streams = StreamRoutes(database: database, torrents: torrents, pool: pool, jobs: jobLedger,
                                   keySecret: configuration.string("STREAM_TOKEN_SECRET"),
                                   startTimeout: Double(max(1, configuration.seconds("STREAM_START_TIMEOUT"))), logger: logger)
        if let vpn { streams.networkAllowed = { vpn.allowsTraffic } }
        let server = try await StreamHTTPServer.start(
            socketPath: configuration.engineSocket, responder: router, resolver: streams, group: streamGroup,
            makeRequestID: {
                var generator = SystemRandomNumberGenerator()
                return RequestID.make(using: &generator)
            })
        logger.info("engine listening", metadata: ["event": "engine_listening", "socket": "\(configuration.engineSocket)"])

        let retentionDays = Double(configuration.int("AUDIT_RETENTION_DAYS"))
        var jobs = [
            ScheduledJob(name: "heartbeat", interval: heartbeatInterval) {
                try database.recordEngineHeartbeat(pid: pid, startedAt: startedAt, now: Date())
            },
            // Watch Now intents: the torrent starts before the player's first request. The API
            // wakes this job by datagram; the poll only catches wake-ups lost while restarting.
            .counting(name: "stream-intents", interval: 5) {
                let intents = try database.consumeIntents(now: Date())
                // Watch Now: the chosen source, downloaded whole. A title page opened: the best
                // source's first and last pieces only (Watch Now then starts from disk).
                var opened = Set<Int>()
                for intent in intents where intent.sourceId != nil {
                    opened.insert(intent.sourceId!)
                }
                for sourceId in opened {
                    torrents.open(sourceId: sourceId, pool: pool).whenFailure { error in
                        logger.warning("intent not started", metadata: ["event": "intent_failed", "source": "\(sourceId)", "error": "\(error)"])
                    }
                }
                for intent in intents where intent.sourceId == nil {
                    guard let movieId = intent.movieId, let best = try database.streamableSources(movieId: movieId).first(where: \.hasFile),
                          !opened.contains(best.id) else { continue }
                    opened.insert(best.id)
                    torrents.open(sourceId: best.id, pool: pool, prefetchOnly: true).whenFailure { error in
                        logger.warning("prefetch not started", metadata: ["event": "prefetch_failed", "source": "\(best.id)", "error": "\(error)"])
                    }
                }
                // An episode about to be watched: the ends of its file in the best source.
                for intent in intents where intent.sourceId == nil {
                    guard let episodeId = intent.episodeId, let episode = try database.episodeRef(episodeId: episodeId),
                          let best = try database.episodeSources(showId: episode.showId, season: episode.season, episode: episode.episode)
                              .first(where: \.hasFile) else { continue }
                    torrents.open(sourceId: best.id, pool: pool, prefetchOnly: true).whenComplete { result in
                        switch result {
                        case let .success(torrent):
                            let files = torrent.metainfo.files.map { (path: $0.path, length: $0.length) }
                            if let index = EpisodeFile.pick(files: files, season: episode.season, episode: episode.episode) {
                                torrent.prefetchEnds(fileIndex: index)
                                logger.info("next episode prefetch", metadata: ["event": "episode_prefetch", "source": "\(best.id)", "file": "\(index)"])
                            }
                        case let .failure(error):
                            logger.warning("prefetch not started", metadata: ["event": "prefetch_failed", "source": "\(best.id)", "error": "\(error)"])
                        }
                    }
                }
                return intents.count
            }.needingVPN(),
            // STORAGE_THRESHOLD: least recently watched downloads no stream reads are evicted.
            ScheduledJob(name: "storage-quota", interval: 5) {
                try await StorageQuota(database: database, engine: engine, threshold: Int64(configuration.bytes("STORAGE_THRESHOLD")),
                                       logger: logger).enforce()
            },
            // Expired sessions and audit rows past retention (the original never cleaned up).
            ScheduledJob(name: "cleanup", interval: 6 * 3600) {
                let now = Date()
                let sessions = try database.deleteExpiredSessions(now: now)
                let audit = try database.deleteAudit(before: now.addingTimeInterval(-retentionDays * 86400))
                try database.deleteExpiredResponses(now: now)
                try database.deleteExpiredStreamingKeys(now: now)
                try database.deleteExpiredDeviceLogins(now: now)
                try database.trimJobRuns(keepPerJob: 200)
                try database.deleteStats(before: StatsFrames.frame(at: now.timeIntervalSince1970) - StatsFrames.kept)
                try database.vacuumIfWorthwhile()
                logger.info("cleanup done", metadata: ["event": "cleanup", "sessions": "\(sessions)", "audit_rows": "\(audit)"])
            },
        ]
        if configuration.bool("DISABLE_BACKGROUND_TASKS") {
            logger.info("background tasks disabled", metadata: ["event": "background_disabled"])
        } else if !configuration.string("TMDB_API_ACCESS_TOKEN").isEmpty {
            // List refresh (reference §4.3): hourly, every list, membership replaced atomically.
            let tmdb = configuration.tmdbClient(logger: logger, stats: stats)
            jobs.append(ScheduledJob(name: "list-refresh", interval: 3600) {
                let count = try CatalogJobs.refreshLists(database: database, tmdb: tmdb, logger: logger)
                logger.info("lists refreshed", metadata: ["event": "list_refresh", "titles": "\(count)"])
            })
            let greedy = configuration.string("EPISODE_SYNC_MODE").uppercased() == "GREEDY"
            let seasons = BackgroundWorker(label: "season-completion")
            jobs.append(.counting(name: "season-completion", interval: 1) {
                try await seasons.run { try CatalogJobs.completeOneSeason(database: database, source: tmdb, greedy: greedy) == nil ? 0 : 1 }
            })
            if !configuration.string("TRAKT_CLIENT_ID").isEmpty, let cipher = configuration.fieldCipher {
                // Trakt tokens are refreshed well before they expire (reference §4.8).
                let trakt = configuration.traktClient(logger: logger, stats: stats)
                jobs.append(ScheduledJob(name: "trakt-token-refresh", interval: 86400) {
                    _ = try TraktAccountStore.refreshExpiring(database: database, client: trakt, cipher: cipher,
                                                              margin: 7 * 86400, now: Date(), logger: logger)
                })
                // Two-way sync: scrobbles pushed (the API wakes this job), history, resume
                // points and the watchlist pulled every TRAKT_SYNC_INTERVAL.
                let sync = TraktSync(database: database, client: trakt, cipher: cipher, logger: logger,
                                     pullInterval: Double(max(60, configuration.seconds("TRAKT_SYNC_INTERVAL"))))
                let traktWorker = BackgroundWorker(label: "trakt-sync")
                jobs.append(.counting(name: "trakt-sync", interval: 30) {
                    try await traktWorker.run { try sync.run() }
                })
            }
            if var found = configuration.sourceDiscovery(database: database, logger: logger, stats: stats), let cipher = configuration.fieldCipher {
                found.imdbLookup = { tmdbId in try tmdb.movie(tmdbId: tmdbId, budget: 5).imdbId }
                let discovery = found
                // Source discovery (reference §3.5–3.8), each on its own worker so a slow
                // directory never holds up the scheduler; YTS's 20/min gate paces searches.
                let searches = BackgroundWorker(label: "source-search")
                jobs.append(.counting(name: "source-search", interval: 0.1) {
                    try await searches.run { try discovery.searchNext() ? 1 : 0 }
                }.needingVPN())
                // Episode sources of shows someone watches (TheRARBG: single episodes and packs).
                let showSearches = BackgroundWorker(label: "show-source-search")
                jobs.append(.counting(name: "show-source-search", interval: 1) {
                    try await showSearches.run { try discovery.searchNextShow() ? 1 : 0 }
                }.needingVPN())
                let files = BackgroundWorker(label: "torrent-files")
                let fileJob = TorrentFileJob(database: database, cipher: cipher, fetcher: configuration.torrentFileFetcher(logger: logger, stats: stats), logger: logger,
                                             peers: { magnet in try? engine.fetchMetadata(magnet: magnet, timeout: 60).wait() })
                jobs.append(.counting(name: "torrent-files", interval: 0.2) {
                    try await files.run { try fileJob.fetchNext() ? 1 : 0 }
                }.needingVPN())
                let scrapes = BackgroundWorker(label: "tracker-stats")
                let statsJob = TrackerStatsJob(database: database, cipher: cipher, trackers: ConfigValueParser.list(configuration.string("SCRAPE_TRACKERS")),
                                               client: configuration.trackerClient(logger: logger, stats: stats), logger: logger)
                jobs.append(.counting(name: "tracker-stats", interval: 2) {
                    try await scrapes.run { try statsJob.scrapeDue() }
                }.needingVPN())
                jobs.append(.counting(name: "source-resync", interval: 5) {
                    try database.retireStaleSources(now: Date(), limit: 1)
                })
            }
            jobs.append(ScheduledJob(name: "metadata-sync", interval: 5400) {
                try CatalogJobs.syncMovieChanges(database: database, changes: tmdb, movies: tmdb, now: Date(), logger: logger)
                try CatalogJobs.syncShowChanges(database: database, changes: tmdb, shows: tmdb, now: Date(), logger: logger)
            })
        }
        // DISABLED_JOBS turns single jobs off; JOB_INTERVALS (name=seconds) retunes them.
        let disabled = Set(ConfigValueParser.list(configuration.string("DISABLED_JOBS")))
        let intervals = Dictionary(ConfigValueParser.list(configuration.string("JOB_INTERVALS")).compactMap { entry -> (String, Double)? in
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let seconds = Double(parts[1]), seconds > 0 else { return nil }
            return (String(parts[0]), seconds)
        }, uniquingKeysWith: { _, last in last })
        jobs = jobs.filter { !disabled.contains($0.name) }.map { job in
            var job = job
            if let interval = intervals[job.name] { job.interval = interval }
            return job
        }
        let scheduler = Scheduler(jobs: jobs, logger: logger, recorder: DatabaseJobRecorder(database: database, logger: logger, stats: stats), ledger: jobLedger)
        jobs.removeAll()
        if let vpn {
            if !vpn.allowsTraffic { await scheduler.vpnChanged(up: false) }
            vpn.onChange = { action in
                switch action {
                case .wentDown:
                    _ = engine.setNetwork(allowed: false, address: nil, interfaceIndex: nil)
                    Task { await scheduler.vpnChanged(up: false) }
                case let .cameUp(_, index), let .rebound(_, index):
                    _ = engine.setNetwork(allowed: true, address: nil, interfaceIndex: index == 0 ? nil : index)
                    Task { await scheduler.vpnChanged(up: true) }
                }
            }
            vpn.exitCheck = configuration.vpnExitCheck(logger: logger)
            vpn.start()
        }
        let schedulerTask = Task { await scheduler.run() }
        let waker = WakeChannel.Listener(path: configuration.engineWakeSocket)
        if waker == nil {
            logger.error("wake socket unavailable", metadata: ["event": "wake_socket_failed", "path": "\(configuration.engineWakeSocket)"])
        }
        let wakeThread = Thread {
            while let waker, !Thread.current.isCancelled {
                guard let job = waker.receive(timeoutMilliseconds: 500) else { continue }
                Task { await scheduler.wake(job) }
            }
        }
        wakeThread.start()

        let signal = await waitForTermination()
        logger.info("engine stopping", metadata: ["event": "engine_stopping", "signal": "\(signal)"])
        schedulerTask.cancel()
        wakeThread.cancel()
        vpn?.stop()
        await schedulerTask.value
        waker?.close()
        await server.stop()
        await engine.stop()
        try await pool.shutdownGracefully()
        try await streamGroup.shutdownGracefully()
        try await group.shutdownGracefully()
        stats.close()
        logger.info("engine stopped", metadata: ["event": "engine_stopped"])
    }

    /// Waits on a dedicated thread for SIGTERM or SIGINT (blocked at start-up).
    static func waitForTermination() async -> Int32 {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                while true {
                    if let signal = Signals.wait(milliseconds: 1000), signal == SIGTERM || signal == SIGINT {
                        continuation.resume(returning: signal)
                        return
                    }
                }
            }
            thread.start()
        }
    }
}

struct EngineHealthDTO: Encodable {
    var status: String
    var uptimeSeconds: Int
}

extension Configuration {
    /// The engine's settings from CONTENT_* / STATIC_TRACKERS / DOWNLOAD_PATH.
    var engineSettings: EngineSettings {
        let path = string("DOWNLOAD_PATH")
        var settings = EngineSettings(bindAddress: string("CONTENT_BIND_ADDRESS").isEmpty ? "0.0.0.0" : string("CONTENT_BIND_ADDRESS"),
                              listenPort: int("CONTENT_PORT"), connectionLimit: max(1, int("CONTENT_CONNECTION_LIMIT")),
                              downloadLimit: Double(bytes("CONTENT_DOWNLOAD_LIMIT")), uploadLimit: Double(bytes("CONTENT_UPLOAD_LIMIT")),
                              staticTrackers: ConfigValueParser.list(string("STATIC_TRACKERS")),
                              downloadPath: path.isEmpty ? dataDirectory + "/downloads" : path)
        settings.idleTimeout = Double(max(1, seconds("TORRENT_IDLE_TIMEOUT")))
        if bool("STORAGE_ENCRYPTION"), let master = Encoding.fromBase64(string("SOURCE_SECURITY_KEY")) {
            settings.chunkEncryption = (master, Array(string("DOWNLOAD_SALT").utf8))
        }
        let discovery = !bool("DISABLE_DISCOVERY")
        settings.dhtEnabled = discovery
        settings.pexEnabled = discovery
        settings.dhtBootstrapNodes = ConfigValueParser.list(string("DHT_BOOTSTRAP_NODES"))
        settings.dhtStatePath = dataDirectory + "/dht.dat"
        settings.peerEncryption = PeerEncryption(rawValue: string("PEER_ENCRYPTION").lowercased()) ?? .prefer
        return settings
    }

    /// Trackers over HTTP (libcurl: one attempt, short budget, bound to the peer address)
    /// and UDP.
    func trackerClient(logger: Logger, stats: (any StatsRecording)? = nil) -> NetworkTrackerClient {
        var policy = HTTPClientPolicy()
        policy.maxAttempts = 1
        policy.options.connectTimeout = 3
        policy.options.totalTimeout = 8
        policy.options.interface = curlInterface
        let client = HTTPClient(policy: policy.observed(by: stats, as: "tracker"), logger: logger)
        let bind = string("CONTENT_BIND_ADDRESS").isEmpty ? "0.0.0.0" : string("CONTENT_BIND_ADDRESS")
        return NetworkTrackerClient(bindAddress: bind, interface: vpnInterface) { url in
            let response = try client.get(url, budget: 8)
            guard response.status == 200 else { throw TrackerTransportError.unreachable("HTTP \(response.status)") }
            return response.body
        }
    }
}
