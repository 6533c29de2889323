/// When to scrape a source's tracker stats next (reference §3.8): the interval grows while
/// seeders/leechers are stable and shrinks when they move, with ±20% jitter, within 6–72 h.
public enum StatsSchedule {
    public static let minimum: Double = 6 * 3600
    public static let maximum: Double = 72 * 3600

    /// The next interval in seconds. `jitter` is a random number in 0…1 (passed in).
    public static func next(previousInterval: Double?, old: (seeders: Int, leechers: Int)?, new: (seeders: Int, leechers: Int),
                            jitter: Double) -> Double {
        var interval = previousInterval ?? minimum
        if let old {
            let volatility = max(change(old.seeders, new.seeders), change(old.leechers, new.leechers))
            switch volatility {
            case ..<5: interval *= 2
            case ..<10: break
            case ..<20: interval *= 0.75
            case ..<50: interval /= 2
            default: interval = minimum
            }
        }
        interval = min(maximum, interval) * (0.8 + 0.4 * min(1, max(0, jitter)))
        return min(maximum, max(minimum, interval))
    }

    /// Relative change in percent (0 → more than 0 counts as 100%).
    static func change(_ old: Int, _ new: Int) -> Double {
        if old == 0 { return new == 0 ? 0 : 100 }
        return Double(abs(new - old)) / Double(old) * 100
    }
}
