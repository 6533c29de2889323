import API
import Catalog
import Crypto
import HTTPClient
import FastCGI
import Foundation
import Logging
import Persistence
import SharedMemory
import WebCore

/// `miauflix api`: the FastCGI supervisor and its worker processes.
public enum APIProcess {
    /// Runs the supervisor until SIGTERM/SIGINT. Migrates (and creates the first admin)
    /// before any worker starts, so workers never race on an empty database.
    public static func runSupervisor(configuration: Configuration, workerArguments: [String], logger: Logger) throws {
        _ = try configuration.openDatabase(maximumReaderCount: 1)
        // Create the shared rate-limit table before the workers map it.
        _ = try SharedRateLimitStore(path: configuration.rateLimitTablePath)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let supervisor = FastCGISupervisor(
            socketPath: configuration.apiSocket,
            workerCount: configuration.apiWorkers,
            command: .init(executable: executable, arguments: workerArguments),
            drainTimeout: .seconds(configuration.seconds("API_DRAIN_TIMEOUT")),
            logger: logger)
        try supervisor.run()
    }

    /// Runs one worker process on the inherited socket `listenFD`.
    public static func runWorker(configuration: Configuration, listenFD: Int32, logger: Logger) throws {
        let threads = configuration.int("API_THREADS")
        let database = try AppDatabase.open(path: configuration.databasePath, maximumReaderCount: max(2, threads))
        let audit = AuditWriter(database: database, logger: logger)
        let environment = APIEnvironment(
            status: ConfigStatusProvider(configuration: configuration, database: database),
            logger: logger,
            database: database,
            auth: configuration.authSettings(environment: ProcessInfo.processInfo.environment),
            rateLimits: try SharedRateLimitStore(path: configuration.rateLimitTablePath),
            audit: audit,
            configuration: ConfigAdministrator(configuration: configuration, reloadAction: {
                // Our parent is the supervisor: SIGHUP makes it replace every worker
                // gracefully, and the new workers read the new configuration.
                kill(getppid(), SIGHUP)
            }))
        var withCatalog = environment
        let stats = StatsRecorder(database: database, logger: logger)
        withCatalog.stats = stats
        withCatalog.watchedThreshold = Double(configuration.int("WATCHED_THRESHOLD")) / 100
        let tmdb = configuration.tmdbClient(logger: logger, database: database, stats: stats)
        withCatalog.movies = DatabaseFirstMovies(database: database, source: tmdb, budget: 3, logger: logger, genreNames: tmdb)
        withCatalog.lists = DatabaseFirstLists(database: database, source: tmdb, budget: 3, logger: logger)
        withCatalog.shows = DatabaseFirstShows(database: database, source: tmdb, budget: 3, genreNames: tmdb)
        withCatalog.search = CatalogSearch(database: database, source: tmdb, budget: 2)
        withCatalog.sourceCipher = configuration.fieldCipher
        withCatalog.engine = EngineInspector(socket: configuration.engineSocket, logger: logger)
        withCatalog.engineWaker = DatagramWaker(path: configuration.engineWakeSocket)
        withCatalog.metricsToken = configuration.string("METRICS_TOKEN")
        withCatalog.prefetch = PrefetchHinter(database: database, waker: DatagramWaker(path: configuration.engineWakeSocket))
        if let discovery = configuration.sourceDiscovery(database: database, logger: logger, stats: stats) {
            withCatalog.sourceSearch = OnDemandSourceSearch(discovery: discovery, database: database)
        }
        withCatalog.streamKeySecret = configuration.string("STREAM_TOKEN_SECRET")
        withCatalog.streamKeyTTL = configuration.seconds("STREAM_TOKEN_EXPIRATION")
        withCatalog.trakt = TraktAccountStore(client: configuration.traktClient(logger: logger, stats: stats), database: database,
                                              cipher: configuration.fieldCipher)
        let responder = APIRoutes.makeResponder(withCatalog)
        let secret = configuration.string("REVERSE_PROXY_SECRET")
        let worker = FastCGIWorker(
            listenFD: listenFD, threadCount: threads,
            mapper: FastCGIRequestMapper(maxBodyBytes: configuration.bytes("API_MAX_BODY_SIZE"),
                                         proxySecret: secret.isEmpty ? nil : secret),
            responder: responder, logger: logger,
            makeRequestID: {
                var generator = SystemRandomNumberGenerator()
                return RequestID.make(using: &generator)
            })
        WorkerProcess.run(worker, drainTimeout: .seconds(configuration.seconds("API_DRAIN_TIMEOUT")), logger: logger)
        audit.close()
        stats.close()
    }
}

extension Configuration {
    /// The TMDB client: 40 requests/s to its host, a 3-second budget per title.
    func tmdbClient(logger: Logger, database: AppDatabase? = nil, stats: (any StatsRecording)? = nil) -> TMDBClient {
        let base = string("TMDB_API_URL")
        var policy = HTTPClientPolicy()
        if let host = URL(string: base)?.host { policy.ratePerHost[host] = 40 }
        policy.options.connectTimeout = 2
        policy.options.totalTimeout = 3
        return TMDBClient(baseURL: base, token: string("TMDB_API_ACCESS_TOKEN"), http: HTTPClient(policy: policy.observed(by: stats, as: "tmdb"), logger: logger), logger: logger,
                          cache: database.map(DatabaseResponseCache.init))
    }

    /// The shared-memory rate-limit table.
    var rateLimitTablePath: String { runDirectory + "/ratelimit.shm" }

    /// The API's authentication settings.
    func authSettings(environment: [String: String]) -> AuthSettings {
        var settings = AuthSettings(jwtSecret: string("JWT_SECRET"))
        settings.accessCookiePrefix = string("ACCESS_TOKEN_COOKIE_NAME")
        settings.refreshCookiePrefix = string("REFRESH_TOKEN_COOKIE_NAME")
        settings.accessTTL = seconds("ACCESS_TOKEN_EXPIRATION")
        settings.refreshTTL = seconds("REFRESH_TOKEN_EXPIRATION")
        settings.chainCapDays = int("REFRESH_TOKEN_MAX_REFRESH_DAYS")
        settings.maxSlots = int("MAX_DEVICE_SLOTS_PER_USER")
        settings.cookieDomain = string("COOKIE_DOMAIN").isEmpty ? nil : string("COOKIE_DOMAIN")
        settings.cookieSecure = bool("COOKIE_SECURE")
        settings.allowSetup = bool("ALLOW_CREATE_ADMIN_ON_FIRST_RUN")
        // Read straight from the process environment, as the original does.
        settings.rateLimitTestMode = environment["RATE_LIMIT_TEST_MODE"].flatMap(ConfigValueParser.bool) ?? false
        settings.corsOrigins = ConfigValueParser.list(string("CORS_ORIGIN"))
        settings.auditAccess = AuditAccessPolicy(rawValue: string("AUDIT_API_ACCESS").lowercased()) ?? .writes
        return settings
    }
}
