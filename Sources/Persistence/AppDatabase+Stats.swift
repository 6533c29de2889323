import Domain
import Foundation
import GRDB

extension AppDatabase {
    /// Adds a process's pending samples to the shared frames in one transaction (counts and
    /// sums add up, minimum and maximum widen).
    public func mergeStats(_ samples: [StatsSample]) throws {
        guard !samples.isEmpty else { return }
        try writer.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO stat_frame (name, frame, kind, count, sum, min, max) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(name, frame) DO UPDATE SET
                    count = count + excluded.count, sum = sum + excluded.sum,
                    min = CASE WHEN count = 0 THEN excluded.min ELSE MIN(min, excluded.min) END,
                    max = CASE WHEN count = 0 THEN excluded.max ELSE MAX(max, excluded.max) END
                """)
            for sample in samples {
                try statement.execute(arguments: [sample.name, sample.frame, sample.kind.rawValue, sample.count, sample.sum, sample.min, sample.max])
            }
        }
    }

    /// Every sample of frames from `frame` on.
    public func stats(since frame: Int) throws -> [StatsSample] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM stat_frame WHERE frame >= ?", arguments: [frame]).map { row in
                StatsSample(name: row["name"], frame: row["frame"], kind: StatsKind(rawValue: row["kind"]) ?? .event,
                            count: row["count"], sum: row["sum"], min: row["min"], max: row["max"])
            }
        }
    }

    /// Drops frames older than `frame` (cleanup); returns how many rows went.
    @discardableResult
    public func deleteStats(before frame: Int) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM stat_frame WHERE frame < ?", arguments: [frame])
            return db.changesCount
        }
    }
}
