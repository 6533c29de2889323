import Domain
import Foundation

/// The change-feed seam.
public protocol ChangeSource: Sendable {
    /// One page of changed movie ids in a window and the page count.
    func movieChanges(start: Date, end: Date, page: Int, budget: Double) throws(CatalogError) -> (ids: [Int], totalPages: Int)
    /// One page of changed show ids in a window and the page count.
    func showChanges(start: Date, end: Date, page: Int, budget: Double) throws(CatalogError) -> (ids: [Int], totalPages: Int)
}

extension TMDBClient: ChangeSource {
    public func movieChanges(start: Date, end: Date, page: Int, budget: Double) throws(CatalogError) -> (ids: [Int], totalPages: Int) {
        try changes(path: "/movie/changes", start: start, end: end, page: page, budget: budget)
    }

    public func showChanges(start: Date, end: Date, page: Int, budget: Double) throws(CatalogError) -> (ids: [Int], totalPages: Int) {
        try changes(path: "/tv/changes", start: start, end: end, page: page, budget: budget)
    }

    func changes(path: String, start: Date, end: Date, page: Int, budget: Double) throws(CatalogError) -> (ids: [Int], totalPages: Int) {
        let raw = try get(TMDBChangesResponse.self, path: path,
                          query: [("end_date", ChangeWindows.day(end)), ("language", "en"), ("page", String(page)),
                                  ("start_date", ChangeWindows.day(start))], budget: budget)
        return ((raw.results ?? []).map(\.id), raw.total_pages ?? 1)
    }
}
