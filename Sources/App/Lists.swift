import API
import Catalog
import Domain
import Foundation
import Logging
import Persistence

/// The catalog's lists: read from the database; a list never synced is fetched (page 1)
/// on first access within the budget; `refresh` is the hourly job's work (pages 1…min(total, 6),
/// membership replaced atomically).
final class DatabaseFirstLists: ListCatalog, @unchecked Sendable {
    let database: AppDatabase
    let source: any ListSource
    let budget: Double
    let logger: Logger
    let flights = SingleFlight<String, Int>()
    static let maximumPages = 6

    init(database: AppDatabase, source: any ListSource, budget: Double, logger: Logger) {
        self.database = database
        self.source = source
        self.budget = budget
        self.logger = logger
    }

    /// The original's three lists first, then trending, then one per movie genre we know.
    var lists: [MediaListInfo] {
        MediaListInfo.builtIn + MediaListInfo.trending
            + ((try? database.movieGenres()) ?? []).map { MediaListInfo.genre(id: $0.id, name: $0.name) }
    }

    func info(slug: String) -> MediaListInfo? {
        if let known = (MediaListInfo.builtIn + MediaListInfo.trending).first(where: { $0.slug == slug }) { return known }
        guard let id = MediaListInfo.genreID(of: slug) else { return nil }
        return lists.first { $0.slug == slug } ?? (id > 0 ? MediaListInfo.genre(id: id, name: "Genre \(id)") : nil)
    }

    func version(slug: String) -> Int64 { (try? database.listVersion(slug: slug)) ?? -1 }

    func list(slug: String) throws(CatalogFailure) -> (id: Int, items: [MediaSummary])? {
        guard let info = info(slug: slug) else { return nil }
        if let stored = try? database.listItems(slug: slug), !stored.items.isEmpty { return stored }
        do throws(CatalogFailure) {
            _ = try CatalogFailure.from { () throws(CatalogError) in
                try flights.run(slug) { () throws(CatalogError) -> Int in
                    if let stored = try? self.database.listItems(slug: slug), !stored.items.isEmpty { return stored.items.count }
                    let page = try self.source.page(slug: slug, page: 1, budget: self.budget)
                    do { try self.database.replaceList(info, items: page.items, now: Date()) } catch { throw .upstream(status: 0) }
                    return page.items.count
                }
            }
        } catch .notFound {
            return nil
        }
        return try? database.listItems(slug: slug)
    }

    /// Every list the hourly job refreshes: the built-in and trending lists, and the genre
    /// lists someone has opened (they exist in the database).
    static func listsToRefresh(database: AppDatabase) -> [MediaListInfo] {
        let opened = ((try? database.movieGenres()) ?? []).map { MediaListInfo.genre(id: $0.id, name: $0.name) }
            .filter { ((try? database.listVersion(slug: $0.slug)) ?? -1) >= 0 }
        return MediaListInfo.builtIn + MediaListInfo.trending + opened
    }

    /// Refreshes one list from TMDB; returns the number of titles stored.
    @discardableResult
    static func refresh(_ info: MediaListInfo, source: any ListSource, database: AppDatabase, budgetPerPage: Double = 10) throws -> Int {
        var items: [MediaSummary] = []
        var pages = 1
        var page = 1
        while page <= min(pages, maximumPages) {
            let fetched = try source.page(slug: info.slug, page: page, budget: budgetPerPage)
            items += fetched.items
            pages = fetched.totalPages
            page += 1
        }
        try database.replaceList(info, items: items, now: Date())
        return items.count
    }
}
