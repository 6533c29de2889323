import Catalog
import Crypto
import Foundation
import HTTPClient
import Logging
import Persistence
import TorrentEngine
import API
import Scheduler

extension Configuration {
    /// YTS then TheRARBG, each with its mirrors (one attempt per mirror: failover is the
    /// retry), bound to the peer address like all torrent traffic.
    func contentDirectories(logger: Logger, stats: (any StatsRecording)? = nil) -> [any ContentDirectory] {
        func client(budget: Double, api: String) -> HTTPClient {
            var policy = HTTPClientPolicy()
            policy.maxAttempts = 1
            policy.options.connectTimeout = budget
            policy.options.totalTimeout = budget
            policy.options.maxBodyBytes = 4 << 20
            policy.options.interface = curlInterface
            return HTTPClient(policy: policy.observed(by: stats, as: api), logger: logger)
        }
        return [
            YTSClient(primary: string("YTS_API_URL"), mirrors: ConfigValueParser.list(string("YTS_MIRRORS")),
                      statusPage: string("YTS_STATUS_URL"), http: client(budget: 2, api: "yts"), logger: logger),
            TheRARBGClient(primary: string("THE_RARBG_API_URL"), mirrors: ConfigValueParser.list(string("THE_RARBG_MIRRORS")),
                           http: client(budget: 4, api: "therarbg"), logger: logger),
        ]
    }

    func torrentFileFetcher(logger: Logger, stats: (any StatsRecording)? = nil) -> TorrentFileFetcher {
        var policy = HTTPClientPolicy()
        policy.maxAttempts = 1
        policy.options.connectTimeout = 5
        policy.options.totalTimeout = 5
        policy.options.maxBodyBytes = TorrentFileFetcher.maximumSize
        policy.options.interface = curlInterface
        return TorrentFileFetcher(http: HTTPClient(policy: policy.observed(by: stats, as: "torrent-cache"), logger: logger), caches: ConfigValueParser.list(string("TORRENT_CACHES")))
    }

    func sourceDiscovery(database: AppDatabase, logger: Logger, stats: (any StatsRecording)? = nil) -> SourceDiscovery? {
        guard let cipher = fieldCipher else { return nil }
        return SourceDiscovery(database: database, cipher: cipher, directories: contentDirectories(logger: logger, stats: stats), logger: logger)
    }
}

/// Runs blocking work (directory searches, downloads, scrapes) on its own serial queue so a
/// slow upstream never holds up the scheduler; a run still going makes the next one skip.
final class BackgroundWorker: @unchecked Sendable {
    private let queue: DispatchQueue
    private var busy = false
    private let lock = NSLock()

    init(label: String) { queue = DispatchQueue(label: label) }

    /// Runs `work` on this worker's thread and waits without holding a cooperative thread.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Starts `work` unless the previous run is still going.
    func submit(_ work: @escaping @Sendable () -> Void) {
        let start = lock.withLock { () -> Bool in
            guard !busy else { return false }
            busy = true
            return true
        }
        guard start else { return }
        queue.async { [self] in
            work()
            lock.withLock { busy = false }
        }
    }
}

/// On-demand search in the API: a movie without sources is searched (directories' fast
/// queues) while the request waits up to its budget; the search finishes in the background.
final class OnDemandSourceSearch: SourceSearching, @unchecked Sendable {
    let discovery: SourceDiscovery
    let database: AppDatabase
    private var running: Set<Int> = []
    private let lock = NSLock()

    init(discovery: SourceDiscovery, database: AppDatabase) {
        self.discovery = discovery
        self.database = database
    }

    func searchIfNeeded(movieId: Int, budget: Double) {
        guard let target = try? database.searchTarget(movieId: movieId) else { return }
        run(key: movieId, budget: budget) { [discovery] in try? discovery.search(target, onDemand: true) }
    }

    func searchShowIfNeeded(showId: Int, budget: Double) {
        guard let target = try? database.showSearchTarget(showId: showId) else { return }
        run(key: -showId, budget: budget) { [discovery] in try? discovery.searchShow(target, onDemand: true) }
    }

    /// One search per title at a time; the caller waits at most `budget` seconds.
    private func run(key: Int, budget: Double, _ work: @escaping @Sendable () -> Void) {
        let first = lock.withLock { running.insert(key).inserted }
        guard first else { return }
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { [self] in
            work()
            lock.withLock { _ = running.remove(key) }
            done.signal()
        }
        _ = done.wait(timeout: .now() + budget)
    }
}

/// Job runs into `job_run`: every failure and every run that did something (idle runs of
/// frequent jobs are only counted in memory, so an idle engine writes nothing).
/// The same runs are timed into the stats (`job.<name>` and its `.success`/`.failure` events).
struct DatabaseJobRecorder: JobRecorder {
    let database: AppDatabase
    let logger: Logger
    var stats: (any StatsRecording)?

    func record(_ run: JobRun) {
        guard !run.succeeded || (run.items ?? 1) > 0 else { return }
        stats?.duration("job.\(run.job)", seconds: run.duration)
        stats?.event("job.\(run.job).\(run.succeeded ? "success" : "failure")")
        let started = Date(timeIntervalSinceNow: -(run.duration))
        do {
            try database.recordJobRun(job: run.job, startedAt: started, duration: run.duration, succeeded: run.succeeded,
                                      items: run.items ?? 0, error: run.error)
        } catch {
            logger.warning("job run not recorded", metadata: ["event": "job_record_failed", "job": "\(run.job)"])
        }
    }
}
