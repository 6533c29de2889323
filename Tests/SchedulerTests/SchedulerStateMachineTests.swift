import Testing
@testable import Scheduler

@Suite struct SchedulerStateMachineTests {
    @Test func runsDueJobsOldestFirstAndNeverOverlaps() {
        var machine = SchedulerStateMachine(jobs: [("a", 10), ("b", 1)], now: 0)
        #expect(machine.next(now: 0) == .run("a"))
        #expect(machine.next(now: 0) == .run("b"))
        #expect(machine.next(now: 0) == .sleep(until: nil), "both running: nothing to do, no wake time")
        machine.finished("b", succeeded: true, now: 0.5)
        #expect(machine.next(now: 0.6) == .sleep(until: 1.5))
        #expect(machine.next(now: 1.5) == .run("b"))
    }

    @Test func failuresBackOffExponentiallyWithACap() {
        var machine = SchedulerStateMachine(jobs: [("a", 2)], now: 0, maximumBackoff: 10)
        _ = machine.next(now: 0)
        machine.finished("a", succeeded: false, now: 0)
        #expect(machine.next(now: 0) == .sleep(until: 4))
        _ = machine.next(now: 4)
        machine.finished("a", succeeded: false, now: 4)
        #expect(machine.next(now: 4) == .sleep(until: 12))
        _ = machine.next(now: 12)
        machine.finished("a", succeeded: false, now: 12)
        #expect(machine.next(now: 12) == .sleep(until: 22), "capped at 10 s")
        #expect(machine.failures(of: "a") == 3)
        _ = machine.next(now: 22)
        machine.finished("a", succeeded: true, now: 22)
        #expect(machine.failures(of: "a") == 0)
        #expect(machine.next(now: 22) == .sleep(until: 24))
    }

    @Test func wakeMakesAJobDueNow() {
        var machine = SchedulerStateMachine(jobs: [("prefetch", 3600)], now: 0, initialDelay: 3600)
        #expect(machine.next(now: 5) == .sleep(until: 3600))
        machine.wake("prefetch", now: 5)
        machine.wake("unknown", now: 5)
        #expect(machine.next(now: 5) == .run("prefetch"))
    }
}

@Suite struct SchedulerRunTests {
    @Test(.timeLimit(.minutes(1))) func runsJobsUntilCancelled() async throws {
        final class Counter: @unchecked Sendable {
            private var value = 0
            private let lock = NSLockLike()
            func increment() { lock.with { value += 1 } }
            var current: Int { lock.with { value } }
        }
        let counter = Counter()
        let scheduler = Scheduler(jobs: [ScheduledJob(name: "tick", interval: 0.01) { counter.increment() }],
                                  logger: .init(label: "test"), maximumSleep: 0.01)
        let task = Task { await scheduler.run() }
        while counter.current < 3 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        await task.value
        let after = counter.current
        try await Task.sleep(for: .milliseconds(50))
        #expect(counter.current == after, "no runs after cancellation")
    }

    /// A wake-up (the API's datagram after Watch Now) runs the job at once, not after the
    /// scheduler's current sleep.
    @Test(.timeLimit(.minutes(1))) func wakeCutsTheSleepShort() async throws {
        final class Runs: @unchecked Sendable {
            private var times: [ContinuousClock.Instant] = []
            private let lock = NSLockLike()
            func record() { lock.with { times.append(.now) } }
            var all: [ContinuousClock.Instant] { lock.with { times } }
        }
        let runs = Runs()
        let scheduler = Scheduler(jobs: [ScheduledJob(name: "intents", interval: 3600) { runs.record() }],
                                  logger: .init(label: "test"), maximumSleep: 30)
        let task = Task { await scheduler.run() }
        while runs.all.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        let woken = ContinuousClock.now
        await scheduler.wake("intents")
        while runs.all.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(runs.all[1] - woken < .seconds(2), "ran at once, not after the 30 s sleep")
        task.cancel()
        await scheduler.wake("intents")
        await task.value
    }
}

import Foundation
final class NSLockLike: @unchecked Sendable {
    let lock = NSLock()
    func with<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }
}

@Suite struct IdleAndConcurrencyTests {
    @Test func idleRunsStretchTheGapAndWorkOrAWakeResetsIt() {
        var machine = SchedulerStateMachine(jobs: [("search", 0.1)], now: 0)
        machine.maximumIdleGap = 30
        var now = 0.0
        var gaps: [Double] = []
        for _ in 0..<12 {
            guard case .run = machine.next(now: now) else { Issue.record("not due"); return }
            machine.finished("search", succeeded: true, items: 0, now: now)
            let due = machine.nextDue(of: "search")!
            gaps.append(due - now)
            now = due
        }
        #expect(gaps.prefix(4).map { ($0 * 10).rounded() / 10 } == [0.2, 0.4, 0.8, 1.6], "doubles while idle")
        #expect(gaps.last == 30, "capped: an idle engine polls twice a minute at most")
        _ = machine.next(now: now)
        machine.finished("search", succeeded: true, items: 3, now: now)
        #expect(abs(machine.nextDue(of: "search")! - now - 0.1) < 1e-9, "work found: back to the interval")
        machine.finished("search", succeeded: true, items: 0, now: now)
        machine.wake("search", now: now + 1)
        #expect(machine.nextDue(of: "search")! <= now + 1)
        _ = machine.next(now: now + 1)
        machine.finished("search", succeeded: true, items: 0, now: now + 1)
        #expect(abs(machine.nextDue(of: "search")! - (now + 1) - 0.2) < 1e-9, "a wake-up restarts the idle streak")
    }

    /// A job stuck in a long run does not hold up the others, and the ledger shows both.
    @Test(.timeLimit(.minutes(1))) func aSlowJobDoesNotDelayTheOthers() async throws {
        final class Counter: @unchecked Sendable {
            private var value = 0
            private let lock = NSLockLike()
            func increment() { lock.with { value += 1 } }
            var current: Int { lock.with { value } }
        }
        let fast = Counter()
        let gate = Counter()
        let scheduler = Scheduler(jobs: [
            ScheduledJob(name: "slow", interval: 60) {
                while gate.current == 0 { try await Task.sleep(for: .milliseconds(5)) }
            },
            .counting(name: "fast", interval: 0.01) { fast.increment(); return 1 },
            ScheduledJob(name: "broken", interval: 0.01) { throw CancellationErrorLike() },
        ], logger: .init(label: "test"), maximumSleep: 0.01)
        let task = Task { await scheduler.run() }
        while fast.current < 5 { try await Task.sleep(for: .milliseconds(5)) }
        let states = Dictionary(uniqueKeysWithValues: scheduler.ledger.snapshot().map { ($0.name, $0) })
        #expect(states["slow"]?.running == true && states["slow"]?.runs == 0, "still in its first run")
        #expect((states["fast"]?.runs ?? 0) >= 4 && states["fast"]?.lastItems == 1)
        #expect((states["broken"]?.failures ?? 0) >= 1 && states["broken"]?.lastError?.contains("CancellationErrorLike") == true)
        gate.increment()
        task.cancel()
        await task.value
        #expect(scheduler.ledger.snapshot().first { $0.name == "slow" }?.runs == 1)
    }
}

struct CancellationErrorLike: Error {}

@Suite struct JobTimeoutTests {
    /// A hung run is cancelled at its timeout and counted; the job then runs again.
    @Test(.timeLimit(.minutes(1))) func aHungRunIsCancelledAndCounted() async throws {
        var hung = ScheduledJob(name: "hung", interval: 0.01) {
            try await Task.sleep(for: .seconds(3600))
        }
        hung.timeout = 0.05
        let scheduler = Scheduler(jobs: [hung], logger: .init(label: "test"), maximumSleep: 0.01)
        let task = Task { await scheduler.run() }
        func state() -> JobLedger.State? { scheduler.ledger.snapshot().first }
        while (state()?.runs ?? 0) < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect((state()?.timeouts ?? 0) >= 1 && (state()?.failures ?? 0) >= 1)
        #expect(state()?.lastError?.contains("cancelled") == true)
        task.cancel()
        await task.value
    }
}

@Suite struct SchedulerVPNTests {
    @Test func jobsBoundToTheVPNPauseWhileItIsDownAndResumeWhenItIsBack() {
        var machine = SchedulerStateMachine(jobs: [("source-search", 1), ("heartbeat", 5)], now: 0, vpnBound: ["source-search"])
        #expect(machine.next(now: 0) == .run("source-search"))
        #expect(machine.next(now: 0) == .run("heartbeat"))
        #expect(machine.vpnChanged(up: false, now: 0.5) == ["source-search"])
        #expect(machine.vpnChanged(up: false, now: 0.6) == [], "no change, nothing reported")
        machine.finished("source-search", succeeded: true, now: 0.7) // the run in flight finishes
        machine.finished("heartbeat", succeeded: true, now: 0.7)
        #expect(machine.isPaused("source-search") && !machine.isPaused("heartbeat"))
        // Down: only the heartbeat runs, and the sleep ignores the paused job.
        #expect(machine.next(now: 2) == .sleep(until: 5.7))
        #expect(machine.next(now: 5.7) == .run("heartbeat"))
        machine.wake("source-search", now: 6)
        #expect(machine.next(now: 6) == .sleep(until: nil), "a wake-up does not run a paused job")
        // Back: the overdue job runs at once.
        #expect(machine.vpnChanged(up: true, now: 20) == ["source-search"])
        #expect(machine.next(now: 20) == .run("source-search"))
        #expect(!machine.isPaused("source-search"))
    }
}

@Suite struct SchedulerWakeTests {
    @Test func aWakeDuringARunIsNotLost() {
        var machine = SchedulerStateMachine(jobs: [("trakt-sync", 30)], now: 0)
        #expect(machine.next(now: 0) == .run("trakt-sync"))
        machine.wake("trakt-sync", now: 1) // work queued while the run is under way
        machine.finished("trakt-sync", succeeded: true, items: 0, now: 2)
        #expect(machine.next(now: 2) == .run("trakt-sync"), "runs again at once, not after its gap")
        machine.finished("trakt-sync", succeeded: true, items: 0, now: 3)
        #expect(machine.next(now: 3) == .sleep(until: 33), "one wake, one extra run")
    }
}
