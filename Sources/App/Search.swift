import API
import Catalog
import Domain
import Foundation
import Persistence

/// Search: local titles first (instant, works without TMDB), then TMDB's multi search within
/// a short budget; TMDB results already stored are not repeated.
struct CatalogSearch: TitleSearch {
    let database: AppDatabase
    let source: any SearchSource
    let budget: Double
    static let pageSize = 20

    func search(_ query: String, kinds: Set<MediaSummary.Kind>, page: Int) -> (items: [MediaSummary], complete: Bool) {
        let local = (try? database.searchTitles(query, kinds: kinds, limit: Self.pageSize, offset: (page - 1) * Self.pageSize)) ?? []
        var seen = Set(local.map { "\($0.kind.rawValue):\($0.tmdbId)" })
        var items = local
        var complete = true
        do {
            for item in try source.search(query, page: page, budget: budget) where kinds.contains(item.kind) {
                if seen.insert("\(item.kind.rawValue):\(item.tmdbId)").inserted { items.append(item) }
            }
        } catch .notFound {
            // No remote results for this query.
        } catch {
            complete = false
        }
        return (items, complete)
    }
}
