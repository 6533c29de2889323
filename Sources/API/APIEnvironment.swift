import Crypto
import Foundation
import Logging
import Persistence
import WebCore

/// What the API's routes need from the rest of the system.
public struct APIEnvironment: Sendable {
    /// Service states for `/api/status`.
    public var status: any StatusProviding
    /// Where unexpected handler errors are logged.
    public var logger: Logger
    /// The database.
    public var database: AppDatabase?
    /// Authentication settings.
    public var auth: AuthSettings
    /// Rate-limit windows (shared across processes in production).
    public var rateLimits: any RateLimitStore
    /// The audit log writer.
    public var audit: AuditWriter?
    /// Configuration administration.
    public var configuration: (any ConfigurationAdministering)?
    /// The movie catalog (database first, TMDB on a miss).
    public var movies: (any MovieCatalog)?
    /// The catalog's lists.
    public var lists: (any ListCatalog)?
    /// Shows and seasons.
    public var shows: (any ShowCatalog)?
    /// Search.
    public var search: (any TitleSearch)?
    /// Trakt accounts.
    public var trakt: (any TraktAccounts)?
    /// The field cipher of `SOURCE_SECURITY_KEY` (source columns).
    public var sourceCipher: FieldCipher?
    /// The engine's admin view (nil: not wired).
    public var engine: (any EngineInspecting)?
    /// METRICS_TOKEN: a Prometheus scraper's bearer token for `/api/metrics` (empty: admins only).
    public var metricsToken: String = ""
    /// `WATCHED_THRESHOLD`: the fraction past which a title counts as watched.
    public var watchedThreshold: Double = 0.9
    /// Request, upstream and job metrics for `/api/stats` (nil: not recorded).
    public var stats: (any StatsRecording)?
    /// Prefetch hints from title pages (nil: none).
    public var prefetch: (any PrefetchHinting)?
    /// On-demand source search (nil: only the engine's background search finds sources).
    public var sourceSearch: (any SourceSearching)?
    /// Wakes the engine's jobs (nil: the engine finds work by polling).
    public var engineWaker: (any EngineWaking)?
    /// `STREAM_TOKEN_SECRET`: HMAC key of stored streaming keys.
    public var streamKeySecret: String = ""
    /// `STREAM_TOKEN_EXPIRATION` in seconds.
    public var streamKeyTTL: Int = 6 * 3600
    /// Password hashing parameters.
    public var hasher: PasswordHasher
    /// Time.
    public var clock: APIClock

    /// Creates the environment.
    public init(status: any StatusProviding, logger: Logger, database: AppDatabase? = nil,
                auth: AuthSettings = AuthSettings(jwtSecret: ""), rateLimits: any RateLimitStore = InMemoryRateLimitStore(),
                audit: AuditWriter? = nil, configuration: (any ConfigurationAdministering)? = nil,
                hasher: PasswordHasher = PasswordHasher(), clock: APIClock = .system) {
        self.status = status
        self.logger = logger
        self.database = database
        self.auth = auth
        self.rateLimits = rateLimits
        self.audit = audit
        self.configuration = configuration
        self.hasher = hasher
        self.clock = clock
        self.movies = nil
        self.lists = nil
        self.shows = nil
        self.search = nil
        self.trakt = nil
    }
}
