import Foundation
import GRDB

/// The one owner of every database transaction (GRDB's `AppDatabase` pattern).
///
/// Both `miauflix api` workers and `miauflix engine` open the same WAL-mode file. Opening
/// takes an exclusive `flock` on a sibling lock file around WAL set-up and migrations, so
/// processes starting at the same moment migrate exactly once and never see
/// "database is locked". Writes use immediate transactions (GRDB's default for pools) and
/// a busy timeout, so concurrent writers from other processes wait instead of failing.
public final class AppDatabase: Sendable {
    /// The underlying pool (or queue, in memory).
    public let writer: any DatabaseWriter

    /// How long a connection waits for another process's write lock.
    public static let busyTimeout: TimeInterval = 10

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Opens (creating if needed) `path` as a WAL database and runs pending migrations.
    public static func open(path: String, maximumReaderCount: Int = 4) throws -> AppDatabase {
        try FileLock.withExclusiveLock(path: path + ".lock") {
            var configuration = Configuration()
            configuration.busyMode = .timeout(busyTimeout)
            configuration.maximumReaderCount = maximumReaderCount
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            let pool = try DatabasePool(path: path, configuration: configuration)
            try AppDatabase.migrator.migrate(pool)
            return AppDatabase(writer: pool)
        }
    }

    /// A private in-memory database with the full schema, for tests.
    public static func inMemory() throws -> AppDatabase {
        let queue = try DatabaseQueue(configuration: Configuration())
        try AppDatabase.migrator.migrate(queue)
        return AppDatabase(writer: queue)
    }

    /// The frozen, append-only list of migrations.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(Migration001Initial.identifier) { db in
            try db.execute(sql: Migration001Initial.sql)
        }
        migrator.registerMigration(Migration002Auth.identifier) { db in
            try db.execute(sql: Migration002Auth.sql)
        }
        migrator.registerMigration(Migration003CatalogSync.identifier) { db in
            try db.execute(sql: Migration003CatalogSync.sql)
        }
        migrator.registerMigration(Migration004Episodes.identifier) { db in
            try db.execute(sql: Migration004Episodes.sql)
        }
        migrator.registerMigration(Migration005ResponseCache.identifier) { db in
            try db.execute(sql: Migration005ResponseCache.sql)
        }
        migrator.registerMigration(Migration006StreamIntents.identifier) { db in
            try db.execute(sql: Migration006StreamIntents.sql)
        }
        migrator.registerMigration(Migration007SourceDiscovery.identifier) { db in
            try db.execute(sql: Migration007SourceDiscovery.sql)
        }
        migrator.registerMigration(Migration008Stats.identifier) { db in
            try db.execute(sql: Migration008Stats.sql)
        }
        migrator.registerMigration(Migration009Progress.identifier) { db in
            try db.execute(sql: Migration009Progress.sql)
        }
        migrator.registerMigration(Migration010DeviceLogin.identifier) { db in
            try db.execute(sql: Migration010DeviceLogin.sql)
        }
        migrator.registerMigration(Migration011EpisodeSources.identifier) { db in
            try db.execute(sql: Migration011EpisodeSources.sql)
        }
        migrator.registerMigration(Migration012TraktSync.identifier) { db in
            try db.execute(sql: Migration012TraktSync.sql)
        }
        migrator.registerMigration(Migration013VPNState.identifier) { db in
            try db.execute(sql: Migration013VPNState.sql)
        }
        migrator.registerMigration(Migration014VPNExit.identifier) { db in
            try db.execute(sql: Migration014VPNExit.sql)
        }
        return migrator
    }

    /// Identifiers of applied migrations, oldest first.
    public func appliedMigrations() throws -> [String] {
        let migrator = AppDatabase.migrator
        let applied: Set<String> = try writer.read { db in try migrator.appliedIdentifiers(db) }
        return migrator.migrations.filter { applied.contains($0) }
    }

    /// Every migration this build knows.
    public static var knownMigrations: [String] { migrator.migrations }
}
