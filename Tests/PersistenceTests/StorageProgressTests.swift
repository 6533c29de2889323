import Foundation
import GRDB
import Testing
@testable import Persistence

@Suite struct StorageProgressTests {
    func databaseWithSource() throws -> (AppDatabase, Int) {
        let database = try AppDatabase.inMemory()
        try database.writer.write { db in
            try db.execute(sql: "INSERT INTO movie (tmdbId, title) VALUES (1, 'A')")
            try db.execute(sql: "INSERT INTO movie_source (movieId, ih, ml, source) VALUES (1, 'x', 'y', 'MANUAL')")
        }
        return (database, 1)
    }

    @Test func fastResumeBitfieldRoundTripsAndUpdatesInPlace() throws {
        let (database, source) = try databaseWithSource()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var progress = StorageProgress(sourceId: source, verifiedPieces: [0b1000_0000], size: 100, downloaded: 10,
                                       location: "/downloads/abc", lastAccessAt: now)
        try database.saveStorageProgress(progress, now: now)
        progress.verifiedPieces = [0b1100_0000]
        progress.downloaded = 20
        progress.lastAccessAt = nil
        try database.saveStorageProgress(progress, now: now.addingTimeInterval(5))
        let stored = try #require(try database.storageProgress(sourceId: source))
        #expect(stored.verifiedPieces == [0b1100_0000] && stored.downloaded == 20)
        #expect(stored.lastAccessAt == now, "a write without a stream keeps the last watch time")
        #expect(try database.count(table: "storage") == 1)
        #expect(try database.storageLeastRecentlyWatched(before: now.addingTimeInterval(1)).map(\.sourceId) == [source])
        #expect(try database.storageLeastRecentlyWatched(before: now).isEmpty)
    }

    @Test func deletingTheSourceDropsItsProgress() throws {
        let (database, source) = try databaseWithSource()
        try database.saveStorageProgress(StorageProgress(sourceId: source, verifiedPieces: [], size: 1, downloaded: 0, location: "/d", lastAccessAt: nil),
                                         now: Date())
        try database.writer.write { db in try db.execute(sql: "DELETE FROM movie_source") }
        #expect(try database.storageProgress(sourceId: source) == nil)
    }
}
