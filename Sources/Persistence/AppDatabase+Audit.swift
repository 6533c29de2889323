import Domain
import Foundation
import GRDB

/// A filter for the admin audit view.
public struct AuditQuery: Sendable, Equatable {
    /// Only these event types (empty: all).
    public var kinds: [AuditEvent.Kind] = []
    /// Only this severity.
    public var severity: AuditEvent.Severity?
    /// Only this user's e-mail.
    public var userEmail: String?
    /// From (inclusive).
    public var from: Date?
    /// To (exclusive).
    public var to: Date?
    /// 1-based page.
    public var page = 1
    /// Rows per page (1...500).
    public var limit = 50

    /// Creates a query.
    public init() {}
}

/// One stored audit row.
public struct AuditRow: Sendable, Codable, Equatable {
    public var id: String
    public var eventType: String
    public var severity: String
    public var description: String?
    public var userEmail: String?
    public var ipAddress: String?
    public var userAgent: String?
    public var metadata: String?
    public var createdAt: Date
}

extension AppDatabase {
    /// Inserts events in one transaction.
    public func insertAudit(_ events: [AuditEvent]) throws {
        guard !events.isEmpty else { return }
        try writer.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO audit_logs (id, eventType, severity, description, ipAddress, userAgent, metadata, userEmail, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for event in events {
                let metadata = AuditValue.json(event.metadata)
                try statement.execute(arguments: [UUID().uuidString.lowercased(), event.kind.rawValue, event.severity.rawValue,
                                                  event.description, String(event.ipAddress.prefix(50)), event.userAgent, metadata,
                                                  event.userEmail, event.createdAt])
            }
        }
    }

    /// Rows matching `query`, newest first, and the total count.
    public func audit(_ query: AuditQuery) throws -> (rows: [AuditRow], total: Int) {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if !query.kinds.isEmpty {
            conditions.append("eventType IN (\(query.kinds.map { _ in "?" }.joined(separator: ",")))")
            arguments += query.kinds.map(\.rawValue)
        }
        if let severity = query.severity { conditions.append("severity = ?"); arguments.append(severity.rawValue) }
        if let email = query.userEmail { conditions.append("userEmail = ?"); arguments.append(email) }
        if let from = query.from { conditions.append("createdAt >= ?"); arguments.append(from) }
        if let to = query.to { conditions.append("createdAt < ?"); arguments.append(to) }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = min(max(query.limit, 1), 500)
        let offset = (max(query.page, 1) - 1) * limit
        return try writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_logs \(whereClause)",
                                         arguments: StatementArguments(arguments)) ?? 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, eventType, severity, description, userEmail, ipAddress, userAgent, metadata, createdAt
                FROM audit_logs \(whereClause) ORDER BY createdAt DESC, rowid DESC LIMIT ? OFFSET ?
                """, arguments: StatementArguments(arguments + [limit, offset]))
            return (rows.map { row in
                AuditRow(id: row["id"], eventType: row["eventType"], severity: row["severity"], description: row["description"],
                         userEmail: row["userEmail"], ipAddress: row["ipAddress"], userAgent: row["userAgent"],
                         metadata: row["metadata"], createdAt: row["createdAt"])
            }, total)
        }
    }

    /// Deletes audit rows older than `cutoff` (retention).
    @discardableResult
    public func deleteAudit(before cutoff: Date) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM audit_logs WHERE createdAt < ?", arguments: [cutoff])
            return db.changesCount
        }
    }
}
