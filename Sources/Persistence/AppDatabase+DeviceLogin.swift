import Foundation
import GRDB

/// A pending device login as the approving user sees it.
public struct DeviceLoginRequest: Sendable, Equatable {
    public var userCode: String
    public var status: String
    public var deviceName: String?
    public var ipAddress: String?
    public var userAgent: String?
    public var createdAt: Date
    public var expiresAt: Date
}

/// What a TV's poll finds.
public enum DeviceLoginPoll: Sendable, Equatable {
    case unknown
    case pending
    /// Polled again sooner than the interval.
    case slowDown
    case expired
    case denied
    /// Already turned into a session once.
    case consumed
    /// Approved by this user: the code is now consumed (single use).
    case approved(userId: String)
}

extension AppDatabase {
    /// Stores a new device login; false when the user code is taken (draw another).
    public func createDeviceLogin(deviceCodeHash: String, userCode: String, deviceName: String?, ipAddress: String?, userAgent: String?,
                                  expiresAt: Date, now: Date) throws -> Bool {
        try writer.write { db in
            do {
                try db.execute(sql: """
                    INSERT INTO device_code (deviceCodeHash, userCode, deviceName, ipAddress, userAgent, expiresAt, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [deviceCodeHash, userCode, deviceName, ipAddress, userAgent, expiresAt, now])
                return true
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                return false
            }
        }
    }

    /// The login behind a user code, if it exists and has not expired.
    public func deviceLogin(userCode: String, now: Date) throws -> DeviceLoginRequest? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM device_code WHERE userCode = ? AND expiresAt > ?", arguments: [userCode, now]).map {
                DeviceLoginRequest(userCode: $0["userCode"], status: $0["status"], deviceName: $0["deviceName"], ipAddress: $0["ipAddress"],
                                   userAgent: $0["userAgent"], createdAt: $0["createdAt"], expiresAt: $0["expiresAt"])
            }
        }
    }

    /// Approves or denies a pending, unexpired login for `userId`; false when there is none.
    public func decideDeviceLogin(userCode: String, userId: String, approve: Bool, now: Date) throws -> Bool {
        try writer.write { db in
            try db.execute(sql: """
                UPDATE device_code SET status = ?, userId = ?, approvedAt = ?
                WHERE userCode = ? AND status = 'pending' AND expiresAt > ?
                """, arguments: [approve ? "approved" : "denied", userId, now, userCode, now])
            return db.changesCount == 1
        }
    }

    /// A TV's poll: what became of its code. An approved code is consumed in the same
    /// transaction, so two polls can never both get a session.
    public func pollDeviceLogin(deviceCodeHash: String, minimumInterval: Double, now: Date) throws -> DeviceLoginPoll {
        try writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, status, userId, expiresAt, lastPolledAt FROM device_code WHERE deviceCodeHash = ?",
                                             arguments: [deviceCodeHash]) else { return .unknown }
            let id: Int = row["id"]
            let status: String = row["status"]
            if status == "consumed" { return .consumed }
            if (row["expiresAt"] as Date) <= now { return .expired }
            if status == "denied" { return .denied }
            if status == "approved", let userId: String = row["userId"] {
                try db.execute(sql: "UPDATE device_code SET status = 'consumed', lastPolledAt = ? WHERE id = ? AND status = 'approved'", arguments: [now, id])
                return db.changesCount == 1 ? .approved(userId: userId) : .consumed
            }
            let last: Date? = row["lastPolledAt"]
            try db.execute(sql: "UPDATE device_code SET lastPolledAt = ? WHERE id = ?", arguments: [now, id])
            if let last, now.timeIntervalSince(last) < minimumInterval { return .slowDown }
            return .pending
        }
    }

    /// Drops device logins expired for more than an hour (cleanup); returns how many.
    @discardableResult
    public func deleteExpiredDeviceLogins(now: Date) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM device_code WHERE expiresAt < ?", arguments: [now.addingTimeInterval(-3600)])
            return db.changesCount
        }
    }
}
