/// A byte-rate limiter (CONTENT_UPLOAD_LIMIT / CONTENT_DOWNLOAD_LIMIT). Value type; time is
/// passed in seconds. A rate of 0 means unlimited.
public struct TokenBucket: Sendable {
    public var rate: Double
    public var burst: Double
    private var tokens: Double
    private var last: Double?

    public init(bytesPerSecond: Double, burstSeconds: Double = 0.25) {
        rate = max(0, bytesPerSecond)
        burst = max(64 * 1024, rate * burstSeconds)
        tokens = burst
    }

    /// Takes `bytes`; returns how long to wait (seconds) before sending them, 0 for now.
    /// Tokens may go negative, so large sends are paced rather than refused.
    public mutating func take(_ bytes: Int, now: Double) -> Double {
        guard rate > 0 else { return 0 }
        if let last { tokens = min(burst, tokens + (now - last) * rate) }
        last = now
        tokens -= Double(bytes)
        return tokens >= 0 ? 0 : -tokens / rate
    }

    /// Whether `bytes` could be taken now without waiting (does not take them).
    public func allows(_ bytes: Int, now: Double) -> Bool {
        guard rate > 0 else { return true }
        let refilled = min(burst, tokens + (last.map { now - $0 } ?? 0) * rate)
        return refilled >= Double(bytes)
    }
}
