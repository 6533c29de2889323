import Logging

/// A background job: a name, an interval and the work of one run.
public struct ScheduledJob: Sendable {
    /// A unique, stable name (`source-search`, `heartbeat`, …).
    public var name: String
    /// Seconds between the end of one successful run and the start of the next.
    public var interval: Double
    /// One run. Throwing counts as a failure and backs off.
    public var run: @Sendable () async throws -> Void

    /// Creates a job.
    public init(name: String, interval: Double, run: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.run = run
    }
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

/// Runs registered jobs on their schedules, one run at a time, until cancelled.
/// Knows nothing of what jobs do (architecture.md).
public actor Scheduler {
    private var machine: SchedulerStateMachine
    private let jobs: [String: ScheduledJob]
    private let clock: any SchedulerClock
    private let logger: Logger
    private let maximumSleep: Double

    /// Creates a scheduler; jobs are first due immediately.
    public init(jobs: [ScheduledJob], clock: any SchedulerClock = ContinuousSchedulerClock(), logger: Logger,
                maximumSleep: Double = 1.0) {
        self.jobs = Dictionary(jobs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.clock = clock
        self.logger = logger
        self.maximumSleep = maximumSleep
        machine = SchedulerStateMachine(jobs: jobs.map { ($0.name, $0.interval) }, now: clock.now())
    }

    /// The current sleep, cancelled by `wake` so a woken job runs at once.
    private var sleeper: Task<Void, any Error>?

    /// Makes a job due now (interrupting the scheduler's sleep).
    public func wake(_ name: String) {
        machine.wake(name, now: clock.now())
        sleeper?.cancel()
    }

    /// Runs until the task is cancelled.
    public func run() async {
        logger.info("scheduler started", metadata: ["event": "scheduler_start", "jobs": "\(jobs.count)"])
        while !Task.isCancelled {
            switch machine.next(now: clock.now()) {
            case let .run(name):
                guard let job = jobs[name] else { continue }
                var succeeded = true
                do {
                    try await job.run()
                } catch is CancellationError {
                    break
                } catch {
                    succeeded = false
                    logger.warning("job failed", metadata: ["event": "job_failure", "job": "\(name)", "error": "\(type(of: error))"])
                }
                machine.finished(name, succeeded: succeeded, now: clock.now())
            case let .sleep(until):
                let wait = until.map { min(max(0, $0 - clock.now()), maximumSleep) } ?? maximumSleep
                // A separate task so `wake` can cut the sleep short (sleeps are at most
                // `maximumSleep`, so our own cancellation is seen within that).
                let sleep = Task { [clock] in try await clock.sleep(seconds: wait) }
                sleeper = sleep
                _ = await sleep.result
                sleeper = nil
            }
        }
        logger.info("scheduler stopped", metadata: ["event": "scheduler_stop"])
    }
}
