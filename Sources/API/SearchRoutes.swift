import Domain
import Foundation
import WebCore

/// The port to search (implemented by `App`).
public protocol TitleSearch: Sendable {
    /// Titles matching `query`: the local database first, then TMDB's search; `complete` is
    /// false when TMDB could not be asked (the answer then holds local results only).
    func search(_ query: String, kinds: Set<MediaSummary.Kind>, page: Int) -> (items: [MediaSummary], complete: Bool)
}

/// `GET /api/search?q=&type=movie|tv|all&page=&lang=` (new; the original had none).
struct SearchRoutes {
    let search: any TitleSearch

    struct PageDTO: Encodable {
        var results: [ListRoutes.ItemDTO]
        var page: Int
        var query: String
        var complete: Bool
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("GET", "/api/search", limit: 5, access: .signedIn) { request in
            let query = (request.query["q"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            var issues: [ValidationIssue] = []
            if query.isEmpty || query.count > 100 {
                issues.append(ValidationIssue(path: ["q"], code: "too_small", message: "q must be 1 to 100 characters"))
            }
            let kinds: Set<MediaSummary.Kind>
            switch request.query["type"] ?? "all" {
            case "all": kinds = [.movie, .show]
            case "movie": kinds = [.movie]
            case "tv", "show": kinds = [.show]
            default:
                kinds = []
                issues.append(ValidationIssue(path: ["type"], code: "invalid_value", message: "type must be movie, tv or all"))
            }
            var page = 1
            if let text = request.query["page"] {
                if let value = Int(text), (1...500).contains(value) { page = value } else {
                    issues.append(ValidationIssue(path: ["page"], code: "invalid_value", message: "page must be 1 to 500"))
                }
            }
            if !issues.isEmpty { throw APIError.validation(issues) }
            let language = try CatalogRoutes.language(request)
            let found = search.search(query, kinds: kinds, page: page)
            return .json(PageDTO(results: found.items.map { ListRoutes.ItemDTO(summary: $0, language: language) },
                                 page: page, query: query, complete: found.complete))
        }
    }
}
