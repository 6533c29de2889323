import Catalog
import Crypto
import Domain
import Foundation
import Logging
import Persistence
import Testing
@testable import App

/// In-memory TMDB for the job functions.
final class FakeTMDB: ShowSource, MovieSource, ChangeSource, @unchecked Sendable {
    var seasonsFetched: [(Int, Int)] = []
    var moviesFetched: [Int] = []
    var changedIDs: [Int] = []
    var changePagesAsked: [(String, Int)] = []

    func show(tmdbId: Int, budget: Double) throws(CatalogError) -> Show {
        Show(tmdbId: tmdbId, imdbId: nil, original: .init(title: "Show \(tmdbId)", overview: "", tagline: ""), firstAirDate: nil,
             lastAirDate: nil, poster: "", backdrop: "", popularity: 1, rating: 1, status: "", type: "", inProduction: false,
             episodeRunTime: [], genres: [], translations: [:],
             seasons: [1, 2].map { Show.SeasonRef(tmdbId: $0, seasonNumber: $0, name: "Season \($0)", overview: "", airDate: nil, poster: nil) })
    }

    func season(showTmdbId: Int, number: Int, budget: Double) throws(CatalogError) -> Season {
        seasonsFetched.append((showTmdbId, number))
        if number == 2 { throw .notFound }
        return Season(ref: .init(tmdbId: number, seasonNumber: number, name: "Season \(number)", overview: "", airDate: nil, poster: nil),
                      episodes: [.init(tmdbId: 100, episodeNumber: 1, name: "Pilot", overview: "", airDate: nil, still: "", runtime: 42)])
    }

    func movie(tmdbId: Int, budget: Double) throws(CatalogError) -> Movie {
        moviesFetched.append(tmdbId)
        return Movie(tmdbId: tmdbId, imdbId: "tt\(tmdbId)", original: .init(title: "Updated \(tmdbId)", overview: "", tagline: ""),
                     releaseDate: "", runtime: 1, poster: "", backdrop: "", logo: "", popularity: 1, rating: 1, genres: [], translations: [:])
    }

    func movieChanges(start: Date, end: Date, page: Int, budget: Double) throws(CatalogError) -> (ids: [Int], totalPages: Int) {
        changePagesAsked.append((ChangeWindows.day(start), page))
        return (page == 1 ? changedIDs : [], 2)
    }

    func showChanges(start: Date, end: Date, page: Int, budget: Double) throws(CatalogError) -> (ids: [Int], totalPages: Int) {
        (changedIDs, 1)
    }
}

@Suite struct CatalogJobsTests {
    @Test func showChangeSyncRefreshesStoredShowsAndReopensTheirLatestSeason() throws {
        let database = try AppDatabase.inMemory()
        let tmdb = FakeTMDB()
        try database.saveShow(try tmdb.show(tmdbId: 9, budget: 1), now: Date())
        try database.saveSeason(showTmdbId: 9, try tmdb.season(showTmdbId: 9, number: 1, budget: 1), now: Date())
        try database.markSeasonSynced(showTmdbId: 9, number: 2)
        #expect(try database.nextUnsyncedSeason(greedy: true) == nil)
        tmdb.changedIDs = [9, 10]
        let now = ISO8601DateFormatter().date(from: "2026-11-29T10:00:00Z")!
        #expect(try CatalogJobs.syncShowChanges(database: database, changes: tmdb, shows: tmdb, now: now, logger: Logger(label: "t")) == 2)
        let reopened = try #require(try database.nextUnsyncedSeason(greedy: true))
        #expect(reopened.showTmdbId == 9 && reopened.number == 2, "the latest season is fetched again")
        #expect(try database.lastSync("TMDB_TVShows") == now)
    }

    @Test func seasonCompletionDoesOneSeasonPerRunOnlyForWatchedShows() throws {
        let database = try AppDatabase.inMemory()
        let tmdb = FakeTMDB()
        try database.saveShow(try tmdb.show(tmdbId: 7, budget: 1), now: Date())
        #expect(try CatalogJobs.completeOneSeason(database: database, source: tmdb, greedy: false) == nil, "not watched yet")
        try database.markWatching(showTmdbId: 7)
        #expect(try CatalogJobs.completeOneSeason(database: database, source: tmdb, greedy: false)! == (7, 1))
        #expect(try database.season(showTmdbId: 7, number: 1)?.episodes.first?.runtime == 42)
        #expect(try CatalogJobs.completeOneSeason(database: database, source: tmdb, greedy: false)! == (7, 2))
        #expect(try CatalogJobs.completeOneSeason(database: database, source: tmdb, greedy: false) == nil, "a vanished season is marked done")
        #expect(tmdb.seasonsFetched.count == 2)
    }

    @Test func greedyModeIgnoresTheWatchingFlag() throws {
        let database = try AppDatabase.inMemory()
        let tmdb = FakeTMDB()
        try database.saveShow(try tmdb.show(tmdbId: 8, budget: 1), now: Date())
        #expect(try CatalogJobs.completeOneSeason(database: database, source: tmdb, greedy: true)! == (8, 1))
    }

    @Test func movieChangeSyncRefreshesStoredMoviesAndMovesTheBookmark() throws {
        let database = try AppDatabase.inMemory()
        let tmdb = FakeTMDB()
        try database.saveMovie(try tmdb.movie(tmdbId: 1, budget: 1), now: Date())
        tmdb.moviesFetched = []
        tmdb.changedIDs = [1, 2, 3]
        let now = ISO8601DateFormatter().date(from: "2026-11-29T10:00:00Z")!
        let refreshed = try CatalogJobs.syncMovieChanges(database: database, changes: tmdb, movies: tmdb, now: now, logger: Logger(label: "t"))
        #expect(refreshed == 2, "movie 1 in each of the two one-day windows; 2 and 3 are not stored")
        #expect(tmdb.moviesFetched == [1, 1])
        #expect(tmdb.changePagesAsked.map(\.1) == [1, 2, 1, 2])
        #expect(try database.lastSync("TMDB_Movies") == now)
        #expect(try CatalogJobs.syncMovieChanges(database: database, changes: tmdb, movies: tmdb, now: now.addingTimeInterval(60), logger: Logger(label: "t")) == 0)
    }
}

final class FakeTrakt: TraktAPI, @unchecked Sendable {
    var refreshed: [String] = []
    func deviceCode() throws(TraktError) -> TraktDeviceCode { throw .upstream }
    func poll(deviceCode: String, now: Date) throws(TraktError) -> TraktPoll { .pending }
    func refresh(refreshToken: String, now: Date) throws(TraktError) -> TraktTokens {
        refreshed.append(refreshToken)
        return TraktTokens(accessToken: "new-access", refreshToken: "new-refresh", expiresAt: now.addingTimeInterval(90 * 86400))
    }
}

@Suite struct TraktRefreshTests {
    @Test func refreshesOnlyTokensNearExpiryAndKeepsThemEncrypted() throws {
        let database = try AppDatabase.inMemory()
        let cipher = try FieldCipher(key: [UInt8](repeating: 3, count: 32))
        let user = try database.createUser(email: "t@home.lan", passwordHash: "h", role: .user, now: Date())
        let other = try database.createUser(email: "u@home.lan", passwordHash: "h", role: .user, now: Date())
        let now = Date()
        try database.linkTrakt(userId: user.id, slug: "soon", username: nil, accessToken: cipher.encryptString("a1"),
                               refreshToken: cipher.encryptString("r1"), expiresAt: now.addingTimeInterval(3600), now: now)
        try database.linkTrakt(userId: other.id, slug: "later", username: nil, accessToken: cipher.encryptString("a2"),
                               refreshToken: cipher.encryptString("r2"), expiresAt: now.addingTimeInterval(60 * 86400), now: now)
        let trakt = FakeTrakt()
        let count = try TraktAccountStore.refreshExpiring(database: database, client: trakt, cipher: cipher, margin: 7 * 86400,
                                                          now: now, logger: Logger(label: "t"))
        #expect(count == 1 && trakt.refreshed == ["r1"])
        let link = try #require(try database.traktLink(slug: "soon"))
        #expect(try cipher.decryptString(link.accessToken!) == "new-access")
        #expect(link.accessToken != "new-access")
    }
}
