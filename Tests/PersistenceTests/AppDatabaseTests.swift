import Domain
import Foundation
import GRDB
import Testing
@testable import Persistence

@Suite struct AppDatabaseTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func createsUsersAndRefusesDuplicates() throws {
        let database = try AppDatabase.inMemory()
        let user = try database.createUser(email: "a@b.co", passwordHash: "$argon2id$x", role: .guest, now: now)
        #expect(user.role == .guest && !user.disabled && user.id.count == 36)
        #expect(throws: UserStoreError.duplicateEmail) {
            try database.createUser(email: "a@b.co", passwordHash: "h", role: .user, now: now)
        }
        #expect(try database.user(email: "A@B.CO") == nil, "e-mail lookup is exact, as the original")
    }

    @Test func initialAdminIsCreatedOnce() throws {
        let database = try AppDatabase.inMemory()
        #expect(try database.createInitialAdminIfNeeded(email: "admin@h.local", passwordHash: "h", now: now) != nil)
        #expect(try database.createInitialAdminIfNeeded(email: "admin@h.local", passwordHash: "h2", now: now) == nil)
        #expect(try database.users().filter { $0.role == .admin }.count == 1)
    }

    @Test func existingNonAdminWithTheAdminAddressIsPromoted() throws {
        let database = try AppDatabase.inMemory()
        try database.createUser(email: "admin@h.local", passwordHash: "old", role: .user, now: now)
        let admin = try database.createInitialAdminIfNeeded(email: "admin@h.local", passwordHash: "new", now: now)
        #expect(admin?.role == .admin)
        #expect(try database.users().count == 1)
    }

    @Test func passwordResetAndDisablingEndSessions() throws {
        let database = try AppDatabase.inMemory()
        let user = try database.createUser(email: "a@b.co", passwordHash: "h", role: .user, now: now)
        func addSession(_ id: String) throws {
            try database.writer.write { db in
                try db.execute(sql: """
                    INSERT INTO refresh_tokens (id, tokenHash, expiresAt, userId, session) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [id, "hash-\(id)", now, user.id, "s-\(id)"])
            }
        }
        try addSession("1")
        try database.setPasswordHash(email: "a@b.co", passwordHash: "h2", now: now)
        #expect(try database.count(table: "refresh_tokens") == 0)
        try addSession("2")
        try database.setDisabled(email: "a@b.co", disabled: true, now: now)
        #expect(try database.count(table: "refresh_tokens") == 0)
        #expect(try database.user(email: "a@b.co")?.disabled == true)
        #expect(throws: UserStoreError.notFound) { try database.setRole(email: "x@y.z", role: .admin, now: now) }
    }

    @Test func deletingAUserCascades() throws {
        let database = try AppDatabase.inMemory()
        let user = try database.createUser(email: "a@b.co", passwordHash: "h", role: .user, now: now)
        try database.writer.write { db in
            try db.execute(sql: "INSERT INTO refresh_tokens (id, tokenHash, expiresAt, userId, session) VALUES ('t', 'h', ?, ?, 's')",
                           arguments: [now, user.id])
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [user.id])
        }
        #expect(try database.count(table: "refresh_tokens") == 0)
    }

    @Test func engineHeartbeatRoundTrip() throws {
        let database = try AppDatabase.inMemory()
        #expect(try database.engineHeartbeat() == nil)
        try database.recordEngineHeartbeat(pid: 7, startedAt: now, now: now)
        try database.recordEngineHeartbeat(pid: 7, startedAt: now, now: now.addingTimeInterval(5))
        let heartbeat = try #require(try database.engineHeartbeat())
        #expect(heartbeat.pid == 7)
        #expect(abs(heartbeat.heartbeatAt.timeIntervalSince(now) - 5) < 0.01)
    }

    @Test func concurrentOpensOfOneFileMigrateOnceInWALMode() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("miauflix-db-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("miauflix.sqlite").path
        final class Results: @unchecked Sendable { var errors: [any Error] = []; let lock = NSLock() }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 6) { index in
            do {
                let database = try AppDatabase.open(path: path)
                try database.createUser(email: "u\(index)@b.co", passwordHash: "h", role: .user, now: now)
            } catch {
                results.lock.lock(); results.errors.append(error); results.lock.unlock()
            }
        }
        #expect(results.errors.isEmpty, "\(results.errors)")
        let database = try AppDatabase.open(path: path)
        #expect(try database.appliedMigrations() == AppDatabase.knownMigrations)
        #expect(try database.users().count == 6)
        let mode = try database.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }
}

@Suite struct StatsStoreTests {
    @Test func framesFromSeveralProcessesAddUpAndOldFramesAreDropped() throws {
        let database = try AppDatabase.inMemory()
        try database.mergeStats([StatsSample(name: "http.request", frame: 10, kind: .duration, count: 2, sum: 0.5, min: 0.125, max: 0.375)])
        try database.mergeStats([StatsSample(name: "http.request", frame: 10, kind: .duration, count: 1, sum: 0.25, min: 0.25, max: 0.25),
                                 StatsSample(name: "job.cleanup.success", frame: 11, kind: .event, count: 1)])
        let rows = try database.stats(since: 0).sorted { $0.frame < $1.frame }
        #expect(rows == [StatsSample(name: "http.request", frame: 10, kind: .duration, count: 3, sum: 0.75, min: 0.125, max: 0.375),
                         StatsSample(name: "job.cleanup.success", frame: 11, kind: .event, count: 1)])
        #expect(try database.deleteStats(before: 11) == 1)
        #expect(try database.stats(since: 0).map(\.name) == ["job.cleanup.success"])
    }
}
