import Foundation

/// The windows of TMDB's change feeds to read (reference internals §4.4): from the last sync
/// (or 24 h ago), never earlier than 14 days ago, floored to 00:00 UTC, cut into one-day UTC
/// chunks with the last one ending now. Pure: `now` is a parameter.
public enum ChangeWindows {
    /// One chunk: `start` inclusive, `end` exclusive; the TMDB query uses their UTC dates.
    public struct Chunk: Equatable, Sendable {
        public var start: Date
        public var end: Date
    }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The chunks to read, oldest first (empty when the last sync is less than an hour old).
    public static func chunks(lastSync: Date?, now: Date, minimumInterval: TimeInterval = 3600) -> [Chunk] {
        if let lastSync, now.timeIntervalSince(lastSync) < minimumInterval { return [] }
        let earliest = now.addingTimeInterval(-14 * 86400)
        let from = max(lastSync ?? now.addingTimeInterval(-86400), earliest)
        var start = utc.startOfDay(for: from)
        var chunks: [Chunk] = []
        while start < now {
            let next = utc.date(byAdding: .day, value: 1, to: start)!
            chunks.append(Chunk(start: start, end: min(next, now)))
            start = next
        }
        return chunks
    }

    /// `YYYY-MM-DD` in UTC.
    public static func day(_ date: Date) -> String {
        let parts = utc.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}
