import Foundation
import GRDB

/// The engine's liveness as recorded in `engine_state`.
public struct EngineHeartbeat: Sendable, Equatable {
    /// The engine's process id.
    public var pid: Int
    /// When the engine started.
    public var startedAt: Date
    /// The last heartbeat.
    public var heartbeatAt: Date
}

extension AppDatabase {
    /// Records that the engine is alive.
    public func recordEngineHeartbeat(pid: Int, startedAt: Date, now: Date) throws {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO engine_state (id, pid, startedAt, heartbeatAt) VALUES (1, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, startedAt = excluded.startedAt,
                                              heartbeatAt = excluded.heartbeatAt
                """, arguments: [pid, startedAt, now])
        }
    }

    /// The last recorded heartbeat, if the engine ever ran.
    public func engineHeartbeat() throws -> EngineHeartbeat? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT pid, startedAt, heartbeatAt FROM engine_state WHERE id = 1")) else {
                return nil
            }
            return EngineHeartbeat(pid: row["pid"], startedAt: row["startedAt"], heartbeatAt: row["heartbeatAt"])
        }
    }

    /// Counts rows of a table (diagnostics and tests). `table` must be a known table name.
    public func count(table: String) throws -> Int {
        guard table.allSatisfy({ $0.isLetter || $0 == "_" }) else { return 0 }
        return try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? 0 }
    }
}
