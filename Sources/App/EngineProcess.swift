import Domain
import FastCGI
import Foundation
import Logging
import NIOCore
import NIOPosix
import Persistence
import Scheduler
import StreamServer
import WebCore

/// `miauflix engine`: the stream endpoint on a unix socket and the scheduler. The torrent
/// engine and the jobs arrive with their issues; today it serves `/api/stream/health` and
/// keeps its heartbeat row fresh (read by `/api/status`).
public enum EngineProcess {
    /// How often the engine records that it is alive.
    static let heartbeatInterval: Double = 5

    /// Runs until SIGTERM/SIGINT.
    public static func run(configuration: Configuration, logger: Logger) async throws {
        let database = try configuration.openDatabase()
        let startedAt = Date()
        let pid = Int(getpid())
        try database.recordEngineHeartbeat(pid: pid, startedAt: startedAt, now: startedAt)

        var router = Router()
        router.on("GET", "/api/stream/health") { _ in
            .json(EngineHealthDTO(status: "ok", uptimeSeconds: Int(Date().timeIntervalSince(startedAt))))
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await StreamHTTPServer.start(
            socketPath: configuration.engineSocket, responder: router, group: group,
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
            // Expired sessions and audit rows past retention (the original never cleaned up).
            ScheduledJob(name: "cleanup", interval: 6 * 3600) {
                let now = Date()
                let sessions = try database.deleteExpiredSessions(now: now)
                let audit = try database.deleteAudit(before: now.addingTimeInterval(-retentionDays * 86400))
                try database.deleteExpiredResponses(now: now)
                try database.deleteExpiredStreamingKeys(now: now)
                logger.info("cleanup done", metadata: ["event": "cleanup", "sessions": "\(sessions)", "audit_rows": "\(audit)"])
            },
        ]
        if configuration.bool("DISABLE_BACKGROUND_TASKS") {
            logger.info("background tasks disabled", metadata: ["event": "background_disabled"])
        } else if !configuration.string("TMDB_API_ACCESS_TOKEN").isEmpty {
            // List refresh (reference §4.3): hourly, every list, membership replaced atomically.
            let tmdb = configuration.tmdbClient(logger: logger)
            jobs.append(ScheduledJob(name: "list-refresh", interval: 3600) {
                let count = try CatalogJobs.refreshLists(database: database, tmdb: tmdb, logger: logger)
                logger.info("lists refreshed", metadata: ["event": "list_refresh", "titles": "\(count)"])
            })
            let greedy = configuration.string("EPISODE_SYNC_MODE").uppercased() == "GREEDY"
            jobs.append(ScheduledJob(name: "season-completion", interval: 1) {
                try CatalogJobs.completeOneSeason(database: database, source: tmdb, greedy: greedy)
            })
            if !configuration.string("TRAKT_CLIENT_ID").isEmpty, let cipher = configuration.fieldCipher {
                // Trakt tokens are refreshed well before they expire (reference §4.8).
                let trakt = configuration.traktClient(logger: logger)
                jobs.append(ScheduledJob(name: "trakt-token-refresh", interval: 86400) {
                    _ = try TraktAccountStore.refreshExpiring(database: database, client: trakt, cipher: cipher,
                                                              margin: 7 * 86400, now: Date(), logger: logger)
                })
            }
            jobs.append(ScheduledJob(name: "metadata-sync", interval: 5400) {
                try CatalogJobs.syncMovieChanges(database: database, changes: tmdb, movies: tmdb, now: Date(), logger: logger)
                try CatalogJobs.syncShowChanges(database: database, changes: tmdb, shows: tmdb, now: Date(), logger: logger)
            })
        }
        let scheduler = Scheduler(jobs: jobs, logger: logger)
        jobs.removeAll()
        let schedulerTask = Task { await scheduler.run() }

        let signal = await waitForTermination()
        logger.info("engine stopping", metadata: ["event": "engine_stopping", "signal": "\(signal)"])
        schedulerTask.cancel()
        await schedulerTask.value
        await server.stop()
        try await group.shutdownGracefully()
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
