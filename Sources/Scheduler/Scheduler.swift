import Foundation
import Logging

/// A background job: a name, an interval and the work of one run.
public struct ScheduledJob: Sendable {
    /// A unique, stable name (`source-search`, `heartbeat`, …).
    public var name: String
    /// Seconds between the end of one successful run and the start of the next.
    public var interval: Double
    /// A run still going after this many seconds is cancelled and reported (default: ten
    /// intervals, between 5 minutes and an hour).
    public var timeout: Double = 0
    /// Paused while the VPN is down (its work is torrent or source traffic).
    public var needsVPN = false
    /// One run; returns the items it processed (0: nothing to do, the gap grows; nil: not
    /// counted). Throwing counts as a failure and backs off.
    public var run: @Sendable () async throws -> Int?

    /// A job whose runs are not counted.
    public init(name: String, interval: Double, run: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.run = { try await run(); return nil }
        timeout = Self.defaultTimeout(interval)
    }

    /// This job, paused while the VPN is down.
    public func needingVPN() -> ScheduledJob {
        var job = self
        job.needsVPN = true
        return job
    }

    static func defaultTimeout(_ interval: Double) -> Double { min(3600, max(300, interval * 10)) }

    private init(name: String, interval: Double, items: @escaping @Sendable () async throws -> Int?) {
        self.name = name
        self.interval = interval
        self.run = items
        timeout = Self.defaultTimeout(interval)
    }

    /// A job that says how much it did (idle runs stretch its gap up to 30 s).
    public static func counting(name: String, interval: Double, _ run: @escaping @Sendable () async throws -> Int) -> ScheduledJob {
        ScheduledJob(name: name, interval: interval, items: { try await run() })
    }
}

/// One finished run, as the ledger and the recorder see it.
public struct JobRun: Sendable, Equatable {
    public var job: String
    public var startedAt: Double
    public var duration: Double
    public var succeeded: Bool
    public var items: Int?
    public var error: String?
}

/// Where runs are kept beyond memory (the database's `job_run` in production).
public protocol JobRecorder: Sendable {
    func record(_ run: JobRun)
}

/// Each job's state for admins: counts, last outcome, next run. Thread-safe.
public final class JobLedger: @unchecked Sendable {
    public struct State: Sendable, Codable, Equatable {
        public var name: String
        public var interval: Double
        public var runs = 0
        public var failures = 0
        public var timeouts = 0
        public var consecutiveFailures = 0
        public var running = false
        /// Paused because the VPN is down.
        public var paused = false
        public var lastStartedAt: Double?
        public var lastDuration: Double?
        public var lastItems: Int?
        public var lastError: String?
        public var nextRunIn: Double?
        public var successRate: Double { runs == 0 ? 1 : Double(runs - failures) / Double(runs) }
    }

    private var states: [String: State] = [:]
    private let lock = NSLock()

    public init() {}

    func register(_ jobs: [ScheduledJob]) {
        lock.withLock { for job in jobs { states[job.name] = State(name: job.name, interval: job.interval) } }
    }

    func paused(_ names: [String], _ paused: Bool) {
        lock.withLock { for name in names { states[name]?.paused = paused } }
    }

    func started(_ name: String, at: Double) {
        lock.withLock {
            states[name]?.running = true
            states[name]?.lastStartedAt = at
        }
    }

    func timedOut(_ name: String) {
        lock.withLock {
            states[name]?.timeouts += 1
            states[name]?.lastError = "timed out"
        }
    }

    func finished(_ run: JobRun, consecutiveFailures: Int, nextDue: Double?, now: Double) {
        lock.withLock {
            guard var state = states[run.job] else { return }
            state.running = false
            state.runs += 1
            if !run.succeeded { state.failures += 1 }
            state.consecutiveFailures = consecutiveFailures
            state.lastDuration = run.duration
            state.lastItems = run.items
            if let error = run.error { state.lastError = error }
            state.nextRunIn = nextDue.map { max(0, $0 - now) }
            states[run.job] = state
        }
    }

    /// Every job's state, by name.
    public func snapshot() -> [State] { lock.withLock { states.values.sorted { $0.name < $1.name } } }

    /// Whether a job of that name exists.
    public func knows(_ name: String) -> Bool { lock.withLock { states[name] != nil } }
}

/// A monotonic clock in seconds, injectable for tests.
public protocol SchedulerClock: Sendable {
    /// Seconds since an arbitrary fixed origin.
    func now() -> Double
    /// Sleeps for `seconds` (cancellable).
    func sleep(seconds: Double) async throws
}

/// The real monotonic clock.
public struct ContinuousSchedulerClock: SchedulerClock {
    let origin = ContinuousClock.now

    /// Creates the clock.
    public init() {}

    public func now() -> Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    public func sleep(seconds: Double) async throws {
        try await Task.sleep(for: .milliseconds(Int(max(0, seconds) * 1000)))
    }
}

/// Runs registered jobs on their schedules until cancelled. Each run is a task of its own,
/// so a slow job never delays the others; runs of one job never overlap (the state machine
/// holds it until it finishes). Knows nothing of what jobs do (architecture.md).
public actor Scheduler {
    private var machine: SchedulerStateMachine
    private let jobs: [String: ScheduledJob]
    private let clock: any SchedulerClock
    private let logger: Logger
    private let maximumSleep: Double
    private let recorder: (any JobRecorder)?
    /// Each job's state for admins.
    public nonisolated let ledger: JobLedger
    /// The current sleep, cancelled by `wake` or a finished run so the loop looks again.
    private var sleeper: Task<Void, any Error>?
    private var running: [String: Task<Void, Never>] = [:]
    private var watchdogs: [String: Task<Void, Never>] = [:]

    /// Creates a scheduler; jobs are first due immediately.
    public init(jobs: [ScheduledJob], clock: any SchedulerClock = ContinuousSchedulerClock(), logger: Logger,
                maximumSleep: Double = 1.0, recorder: (any JobRecorder)? = nil, ledger: JobLedger = JobLedger()) {
        self.jobs = Dictionary(jobs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.clock = clock
        self.logger = logger
        self.maximumSleep = maximumSleep
        self.recorder = recorder
        self.ledger = ledger
        ledger.register(jobs)
        machine = SchedulerStateMachine(jobs: jobs.map { ($0.name, $0.interval) }, now: clock.now(),
                                        vpnBound: Set(jobs.filter(\.needsVPN).map(\.name)))
    }

    /// The VPN went down (jobs bound to it pause: none starts, runs in flight finish) or came
    /// back (they resume, overdue ones at once).
    public func vpnChanged(up: Bool) {
        let affected = machine.vpnChanged(up: up, now: clock.now())
        guard !affected.isEmpty else { return }
        ledger.paused(affected, !up)
        logger.info(up ? "jobs resumed" : "jobs paused", metadata: ["event": up ? "jobs_resumed" : "jobs_paused", "jobs": "\(affected.joined(separator: ","))"])
        sleeper?.cancel()
    }

    /// Makes a job due now (interrupting the scheduler's sleep).
    public func wake(_ name: String) {
        machine.wake(name, now: clock.now())
        sleeper?.cancel()
    }

    /// Runs until the task is cancelled; in-flight runs are awaited before it returns.
    public func run() async {
        logger.info("scheduler started", metadata: ["event": "scheduler_start", "jobs": "\(jobs.count)"])
        while !Task.isCancelled {
            switch machine.next(now: clock.now()) {
            case let .run(name):
                guard let job = jobs[name] else { continue }
                let started = clock.now()
                ledger.started(name, at: started)
                let timeout = job.timeout
                running[name] = Task { [clock] in
                    var items: Int?
                    var failure: String?
                    do {
                        items = try await job.run()
                    } catch is CancellationError {
                        failure = "cancelled (timed out or stopping)"
                    } catch {
                        failure = "\(type(of: error)): \(String(describing: error).prefix(300))"
                    }
                    self.complete(name, started: started, ended: clock.now(), items: items, error: failure)
                }
                // Watchdog: a run past its timeout is cancelled (cooperatively) and reported;
                // it keeps its slot until it really ends, so runs still never overlap.
                let watched = running[name]
                watchdogs[name] = Task { [clock, logger, ledger] in
                    try? await clock.sleep(seconds: timeout)
                    guard let watched, self.isCurrent(name, watched) else { return }
                    watched.cancel()
                    ledger.timedOut(name)
                    logger.warning("job timed out", metadata: ["event": "job_timeout", "job": "\(name)", "seconds": "\(Int(timeout))"])
                }
            case let .sleep(until):
                let wait = until.map { min(max(0, $0 - clock.now()), maximumSleep) } ?? maximumSleep
                // A separate task so `wake` (or a finished run) can cut the sleep short.
                let sleep = Task { [clock] in try await clock.sleep(seconds: wait) }
                sleeper = sleep
                _ = await sleep.result
                sleeper = nil
            }
        }
        for task in running.values { await task.value }
        logger.info("scheduler stopped", metadata: ["event": "scheduler_stop"])
    }

    private func isCurrent(_ name: String, _ task: Task<Void, Never>) -> Bool { running[name] == task }

    private func complete(_ name: String, started: Double, ended: Double, items: Int?, error: String?) {
        running[name] = nil
        watchdogs.removeValue(forKey: name)?.cancel()
        machine.finished(name, succeeded: error == nil, items: items, now: ended)
        let run = JobRun(job: name, startedAt: started, duration: ended - started, succeeded: error == nil, items: items, error: error)
        ledger.finished(run, consecutiveFailures: machine.failures(of: name), nextDue: machine.nextDue(of: name), now: ended)
        if let error {
            logger.warning("job failed", metadata: ["event": "job_failure", "job": "\(name)", "error": "\(error.prefix(200))"])
        }
        recorder?.record(run)
        sleeper?.cancel()
    }
}
