import Foundation

/// Time for the API: wall-clock for tokens and rows, monotonic milliseconds for rate limits
/// (the same across processes on one machine). Injected so tests can move time.
public struct APIClock: Sendable {
    /// The current date.
    public var now: @Sendable () -> Date
    /// Monotonic milliseconds.
    public var monotonicMillis: @Sendable () -> Int64

    /// Creates a clock.
    public init(now: @escaping @Sendable () -> Date, monotonicMillis: @escaping @Sendable () -> Int64) {
        self.now = now
        self.monotonicMillis = monotonicMillis
    }

    /// The system clock.
    public static let system = APIClock(now: { Date() }, monotonicMillis: {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    })
}
