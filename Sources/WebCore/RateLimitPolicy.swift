/// The rate-limit rule of the original (reference §4), as a pure function over a small
/// value: for `limit ≥ 1`, at most `limit` accepted requests in any rolling 999 ms window;
/// for `limit < 1`, one accepted request per `round(1000 / limit)` ms. Rejected requests do
/// not count. Time is a parameter (milliseconds).
public enum RateLimitPolicy {
    /// The most timestamps a window keeps (the largest limit in the route table is 60).
    public static let maximumLimit = 64

    /// The verdict.
    public enum Decision: Equatable, Sendable {
        /// Accepted (and recorded).
        case allow
        /// Rejected; the client may retry after this many milliseconds.
        case deny(retryAfterMillis: Int64)
    }

    /// Decides for `window` (accepted timestamps, oldest first) and records an accepted request.
    public static func decide(limit: Double, now: Int64, window: inout [Int64]) -> Decision {
        if limit >= 1 {
            let capacity = min(Int(limit), maximumLimit)
            window.removeAll { now - $0 > 999 }
            if window.count >= capacity {
                return .deny(retryAfterMillis: max(1, window[window.count - capacity] + 1000 - now))
            }
            window.append(now)
            return .allow
        }
        let interval = Int64((1000 / max(limit, 0.000_001)).rounded())
        if let last = window.last, now - last < interval {
            return .deny(retryAfterMillis: max(1, last + interval - now))
        }
        window = [now]
        return .allow
    }

    /// How long state for `limit` must be kept before it can be forgotten (ms).
    public static func retention(limit: Double) -> Int64 {
        limit >= 1 ? 1000 : Int64((1000 / max(limit, 0.000_001)).rounded())
    }
}

/// Storage for rate-limit windows, shared by every thread (and, in production, every worker
/// process). Implementations must bound their memory.
public protocol RateLimitStore: Sendable {
    /// Applies the policy to the window of `key` atomically.
    func check(key: String, limit: Double, now: Int64) -> RateLimitPolicy.Decision
}

/// An in-process store (tests, single-process tools): a dictionary under a lock, with idle
/// windows evicted once it grows past `capacity`.
public final class InMemoryRateLimitStore: RateLimitStore, @unchecked Sendable {
    private struct Entry { var window: [Int64]; var keepUntil: Int64 }
    private var entries: [String: Entry] = [:]
    private let lock = NSLockShim()
    let capacity: Int

    /// Creates a store holding at most about `capacity` windows.
    public init(capacity: Int = 10_000) { self.capacity = capacity }

    public func check(key: String, limit: Double, now: Int64) -> RateLimitPolicy.Decision {
        lock.with {
            if entries.count >= capacity { entries = entries.filter { $0.value.keepUntil > now } }
            var entry = entries[key] ?? Entry(window: [], keepUntil: 0)
            let decision = RateLimitPolicy.decide(limit: limit, now: now, window: &entry.window)
            entry.keepUntil = now + RateLimitPolicy.retention(limit: limit)
            if entries.count < capacity || entries[key] != nil { entries[key] = entry }
            return decision
        }
    }

    /// The number of windows held (tests).
    public var count: Int { lock.with { entries.count } }
}
