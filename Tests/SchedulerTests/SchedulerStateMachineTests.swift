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
