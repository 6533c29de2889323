import API
import Domain
import Foundation
import HTTPClient
import Logging
import Persistence

/// One process's side of `GET /api/stats`: samples accumulate in memory (a lock and a
/// dictionary update per sample) and a thread merges them into `stat_frame` every
/// `interval` seconds, only when there is something to write (an idle process writes
/// nothing). A report merges this process's pending samples first, so it is never stale
/// for the asker.
final class StatsRecorder: StatsRecording, @unchecked Sendable {
    let database: AppDatabase
    let logger: Logger
    let interval: Double
    private var pending = StatsAccumulator()
    private let condition = NSCondition()
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    init(database: AppDatabase, logger: Logger, interval: Double = 10) {
        self.database = database
        self.logger = logger
        self.interval = interval
        let thread = Thread { [self] in loop() }
        thread.name = "stats-writer"
        thread.start()
    }

    func duration(_ name: String, seconds: Double) {
        let now = Date().timeIntervalSince1970
        condition.lock()
        pending.duration(name, seconds: seconds, at: now)
        condition.unlock()
    }

    func event(_ name: String) {
        let now = Date().timeIntervalSince1970
        condition.lock()
        pending.event(name, at: now)
        condition.unlock()
    }

    func report() throws -> [String: [StatsValue]] {
        flush()
        let now = Date().timeIntervalSince1970
        let samples = try database.stats(since: StatsFrames.frame(at: now) - StatsFrames.kept + 1)
        return StatsReport.build(samples, now: now)
    }

    /// Merges everything pending into the database now.
    func flush() {
        condition.lock()
        let batch = pending.drain()
        condition.unlock()
        guard !batch.isEmpty else { return }
        do { try database.mergeStats(batch) } catch {
            logger.warning("stats not written", metadata: ["event": "stats_write_failed", "samples": "\(batch.count)", "error": "\(type(of: error))"])
        }
    }

    /// Writes what is pending and stops the thread (graceful shutdown).
    func close() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        _ = done.wait(timeout: .now() + 5)
    }

    private func loop() {
        while true {
            condition.lock()
            if !stopped { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
            let stop = stopped
            condition.unlock()
            flush()
            if stop { done.signal(); return }
        }
    }
}

/// Upstream calls into the stats, as the reference names them: `request`,
/// `request.success` / `request.error` (durations) and `api.<name>.request` (duration) with
/// `api.<name>.request.success` / `.failure` events. A call succeeds when it got an answer
/// below 500 other than 429.
struct UpstreamStats: HTTPCallObserving {
    let stats: any StatsRecording
    let api: String

    func completed(host: String, seconds: Double, status: Int?) {
        let succeeded = status.map { $0 < 500 && $0 != 429 } ?? false
        stats.duration("request", seconds: seconds)
        stats.duration(succeeded ? "request.success" : "request.error", seconds: seconds)
        stats.duration("api.\(api).request", seconds: seconds)
        stats.event("api.\(api).request.\(succeeded ? "success" : "failure")")
    }
}

extension HTTPClientPolicy {
    /// This policy with its calls counted in `stats` under `api.<api>.…` (nil: not counted).
    func observed(by stats: (any StatsRecording)?, as api: String) -> HTTPClientPolicy {
        var policy = self
        policy.observer = stats.map { UpstreamStats(stats: $0, api: api) }
        return policy
    }
}
