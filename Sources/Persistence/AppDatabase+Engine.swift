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

/// The VPN kill switch's state as the engine last recorded it.
public struct VPNStateRecord: Sendable, Equatable {
    public var interface: String
    public var up: Bool
    public var reason: String?
    public var address: String?
    public var since: Date
    /// The exit address an insights endpoint saw, and whether it called it protected.
    public var exitIp: String?
    public var protected: Bool?
    public var checkedAt: Date?

    public init(interface: String, up: Bool, reason: String?, address: String?, since: Date) {
        self.interface = interface
        self.up = up
        self.reason = reason
        self.address = address
        self.since = since
    }
}

extension AppDatabase {
    /// Records a VPN state change (the engine's heartbeat row must exist).
    public func recordVPNState(_ state: VPNStateRecord) throws {
        try writer.write { db in
            try db.execute(sql: """
                UPDATE engine_state SET vpnInterface = ?, vpnUp = ?, vpnReason = ?, vpnAddress = ?, vpnSince = ? WHERE id = 1
                """, arguments: [state.interface, state.up, state.reason, state.address, state.since])
        }
    }

    /// Records what the exit check saw (nil ip: the check failed).
    public func recordVPNExit(ip: String?, protected: Bool?, checkedAt: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE engine_state SET vpnExitIp = ?, vpnProtected = ?, vpnCheckedAt = ? WHERE id = 1",
                           arguments: [ip, protected, checkedAt])
        }
    }

    /// The last recorded VPN state, if the engine watches one.
    public func vpnState() throws -> VPNStateRecord? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT vpnInterface, vpnUp, vpnReason, vpnAddress, vpnSince, vpnExitIp, vpnProtected, vpnCheckedAt FROM engine_state WHERE id = 1
                """), let interface: String = row["vpnInterface"], let up: Bool = row["vpnUp"], let since: Date = row["vpnSince"] else { return nil }
            var state = VPNStateRecord(interface: interface, up: up, reason: row["vpnReason"], address: row["vpnAddress"], since: since)
            state.exitIp = row["vpnExitIp"]
            state.protected = row["vpnProtected"]
            state.checkedAt = row["vpnCheckedAt"]
            return state
        }
    }
}
