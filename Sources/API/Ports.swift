import Domain
/// One configuration variable as `GET /api/config` shows it (secrets masked).
public struct ConfigEntryDTO: Encodable, Sendable, Equatable {
    public var key: String
    public var value: String
    public var isSecret: Bool
    public var serviceGroup: String
    public var description: String
    public var required: Bool
    public var hasValue: Bool

    /// Creates an entry.
    public init(key: String, value: String, isSecret: Bool, serviceGroup: String, description: String, required: Bool, hasValue: Bool) {
        self.key = key
        self.value = value
        self.isSecret = isSecret
        self.serviceGroup = serviceGroup
        self.description = description
        self.required = required
        self.hasValue = hasValue
    }
}

/// The outcome of validating a configuration change.
public enum ConfigChangeCheck: Sendable, Equatable {
    /// Keys that are not configuration variables.
    case unknownKeys([String])
    /// Keys that cannot be changed at runtime (paths, the encryption key).
    case readOnlyKeys([String])
    /// Keys whose values fail validation.
    case invalidKeys([String])
    /// Everything is valid; these services must restart, these need a process restart.
    case valid(restarting: [String], needsProcessRestart: [String])
}

/// The port through which the API administers the configuration (implemented by `App`).
public protocol ConfigurationAdministering: Sendable {
    /// Every variable, grouped by service, secrets masked.
    func entries() -> [ConfigEntryDTO]
    /// Validates a change without applying anything.
    func check(_ changes: [(key: String, value: String)]) -> ConfigChangeCheck
    /// Persists a validated change (secrets encrypted) atomically.
    func apply(_ changes: [(key: String, value: String)]) throws
    /// Known service names.
    var services: [String] { get }
    /// Reloads the processes so they read the new configuration.
    func reload()
}

/// The engine as the admin view sees it (implemented by `App` over the engine's socket).
public protocol EngineInspecting: Sendable {
    /// The open torrents as a JSON array (name, size, progress, speeds, peers, streams).
    /// Throws when the engine does not answer.
    func torrentsJSON() throws -> [UInt8]
    /// The background jobs as a JSON array (state, counts, last outcome, next run).
    func jobsJSON() throws -> [UInt8]
    /// The engine's metrics in Prometheus text format.
    func metricsText() throws -> [UInt8]
}

/// Wakes an engine job at once (a datagram to the engine; it also polls, so this only
/// saves latency). Implemented by `App`.
public protocol EngineWaking: Sendable {
    func wake(_ job: String)
}

/// On-demand source search (reference §3.5): a movie without sources is searched in the
/// content directories while the request waits at most `budget` seconds; the search goes on
/// in the background and its results appear on the next request. Implemented by `App`.
public protocol SourceSearching: Sendable {
    func searchIfNeeded(movieId: Int, budget: Double)
    /// The same for a show's episode sources (the show's internal id).
    func searchShowIfNeeded(showId: Int, budget: Double)
}

/// Opening a title's page is a hint: the engine prefetches the best source's first and last
/// pieces so Watch Now starts at once. Implemented by `App` (an intent row and a wake-up).
public protocol PrefetchHinting: Sendable {
    func opened(movieId: Int, userId: String)
    /// An episode passed 70 %: the engine prefetches the next episode's first pieces, so
    /// "next episode" starts at once.
    func nearlyWatched(showTmdbId: Int, season: Int, episode: Int, userId: String)
}

/// Request, upstream-call and job metrics in 5-minute frames (`GET /api/stats`). Recording
/// is in memory and cheap; the report merges every process's frames. Implemented by `App`.
public protocol StatsRecording: Sendable {
    /// Records one duration in seconds.
    func duration(_ name: String, seconds: Double)
    /// Counts one event.
    func event(_ name: String)
    /// The report of the last 24 hours, every process included.
    func report() throws -> [String: [StatsValue]]
}
