/// The pure core of the scheduler: which job runs next and when, given the time.
///
/// Time is a parameter (seconds on a monotonic clock), so tests drive it directly. Runs of
/// one job never overlap; a failed run backs off exponentially (interval × 2^failures,
/// capped at `maximumBackoff`); a wake-up makes named jobs due immediately. Jobs bound to
/// the VPN are paused while it is down (never started; a run in flight finishes) and are
/// due at once when it comes back if their time passed meanwhile.
public struct SchedulerStateMachine: Sendable {
    /// What the runner should do next.
    public enum Action: Equatable, Sendable {
        /// Run this job now; report back with `finished`.
        case run(String)
        /// Nothing is due; sleep until this time (or a wake-up). Nil: no jobs at all.
        case sleep(until: Double?)
    }

    struct Entry: Sendable {
        let name: String
        let interval: Double
        var nextDue: Double
        var running = false
        var consecutiveFailures = 0
        /// Runs in a row that found nothing to do.
        var idleRuns = 0
        /// Paused while the VPN is down.
        var needsVPN = false
        /// Woken while a run was in flight: runs again as soon as it ends (the work that
        /// woke it may have arrived after the run looked).
        var wokenWhileRunning = false
    }

    private var entries: [Entry]
    /// The longest delay after repeated failures, in seconds.
    public var maximumBackoff: Double
    /// The longest gap an idle job stretches to (a job that found nothing doubles its gap
    /// each time, so idle jobs cost nothing; a wake-up or work found resets it).
    public var maximumIdleGap: Double = 30
    /// Whether the VPN is up (true when there is no VPN to watch).
    public private(set) var vpnUp = true

    /// Creates the machine; every job is first due at `now + initialDelay`.
    public init(jobs: [(name: String, interval: Double)], now: Double, initialDelay: Double = 0, maximumBackoff: Double = 3600,
                vpnBound: Set<String> = []) {
        entries = jobs.map { Entry(name: $0.name, interval: max(0.001, $0.interval), nextDue: now + initialDelay, needsVPN: vpnBound.contains($0.name)) }
        self.maximumBackoff = maximumBackoff
    }

    /// The VPN went down or came back. Returns the jobs paused or resumed by the change.
    @discardableResult
    public mutating func vpnChanged(up: Bool, now: Double) -> [String] {
        guard up != vpnUp else { return [] }
        vpnUp = up
        return entries.filter(\.needsVPN).map(\.name)
    }

    /// Whether a job is paused now (bound to the VPN while it is down).
    public func isPaused(_ name: String) -> Bool { !vpnUp && (entries.first { $0.name == name }?.needsVPN ?? false) }

    /// The next action at `now`. A returned `.run` marks the job as running.
    public mutating func next(now: Double) -> Action {
        var earliest: Double?
        var candidate: Int?
        for (index, entry) in entries.enumerated() where !entry.running && (vpnUp || !entry.needsVPN) {
            if entry.nextDue <= now, candidate == nil || entry.nextDue < entries[candidate!].nextDue {
                candidate = index
            }
            earliest = min(earliest ?? entry.nextDue, entry.nextDue)
        }
        if let candidate {
            entries[candidate].running = true
            return .run(entries[candidate].name)
        }
        return .sleep(until: earliest)
    }

    /// Records the end of a run and schedules the next one. `items`: what the run processed
    /// (0: nothing to do — the gap grows; nil: not counted).
    public mutating func finished(_ name: String, succeeded: Bool, items: Int? = nil, now: Double) {
        guard let index = entries.firstIndex(where: { $0.name == name }) else { return }
        entries[index].running = false
        defer {
            if entries[index].wokenWhileRunning {
                entries[index].wokenWhileRunning = false
                entries[index].nextDue = min(entries[index].nextDue, now)
                entries[index].idleRuns = 0
            }
        }
        if succeeded {
            entries[index].consecutiveFailures = 0
            var gap = entries[index].interval
            if items == 0 {
                entries[index].idleRuns += 1
                let stretched = entries[index].interval * pow2(Double(min(entries[index].idleRuns, 30)))
                gap = max(entries[index].interval, min(stretched, maximumIdleGap))
            } else {
                entries[index].idleRuns = 0
            }
            entries[index].nextDue = now + gap
        } else {
            entries[index].consecutiveFailures += 1
            let exponent = Double(min(entries[index].consecutiveFailures, 30))
            let delay = min(entries[index].interval * pow2(exponent), maximumBackoff)
            entries[index].nextDue = now + max(delay, entries[index].interval)
        }
    }

    /// Makes the named job due now (an intent arrived); unknown names are ignored.
    public mutating func wake(_ name: String, now: Double) {
        // A paused job stays paused; the wake-up still counts when the VPN is back.
        guard let index = entries.firstIndex(where: { $0.name == name }) else { return }
        entries[index].nextDue = min(entries[index].nextDue, now)
        entries[index].idleRuns = 0
        if entries[index].running { entries[index].wokenWhileRunning = true }
    }

    /// When a job is next due (nil: unknown job).
    public func nextDue(of name: String) -> Double? { entries.first { $0.name == name }?.nextDue }

    /// Whether a job is running now.
    public func isRunning(_ name: String) -> Bool { entries.first { $0.name == name }?.running ?? false }

    /// Consecutive failures of a job (for status views).
    public func failures(of name: String) -> Int {
        entries.first { $0.name == name }?.consecutiveFailures ?? 0
    }

    private func pow2(_ x: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(x) { result *= 2 }
        return result
    }
}
