/// A method + path-pattern router. Patterns are literal segments and `:name` parameters;
/// matching is strict about trailing slashes (as the original). `HEAD` falls back to the
/// `GET` route with the body dropped; a path that matches with another method answers 405.
public struct Router: Responder {
    struct Route: Sendable {
        let method: String
        let segments: [Segment]
        let pattern: String
        let responder: any Responder
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    private var routes: [Route] = []
    /// Routes without parameters, by "METHOD path": most requests resolve with one lookup.
    private var literal: [String: Route] = [:]

    /// Creates an empty router.
    public init() {}

    /// Registers `handler` for `method` and `pattern` (e.g. `/api/movies/:id`).
    public mutating func on(_ method: String, _ pattern: String, _ handler: @escaping @Sendable (Request) throws -> Response) {
        on(method, pattern, responder: ClosureResponder(handler))
    }

    /// Registers a responder for `method` and `pattern`.
    public mutating func on(_ method: String, _ pattern: String, responder: any Responder) {
        let route = Route(method: method.uppercased(), segments: Router.segments(of: pattern),
                          pattern: pattern, responder: responder)
        routes.append(route)
        if !route.segments.contains(where: { if case .parameter = $0 { return true } else { return false } }) {
            literal[route.method + " " + pattern] = literal[route.method + " " + pattern] ?? route
        }
    }

    /// The pattern that `method path` matches, for per-route rate limits and logs.
    public func pattern(method: String, path: String) -> String? {
        match(method: method, path: path)?.route.pattern
    }

    public func respond(to request: Request) throws -> Response {
        let method = request.method
        if let (route, parameters) = match(method: method, path: request.path) {
            var request = request
            request.pathParameters = parameters
            request.routePattern = route.pattern
            var response = try route.responder.respond(to: request)
            if method == "HEAD" && route.method == "GET" { response.body = [] }
            return response
        }
        let allowed = Set(routes.filter { Router.bind($0.segments, to: request.path) != nil }.map(\.method))
        if !allowed.isEmpty {
            throw APIError.methodNotAllowed(allowed: allowed.sorted())
        }
        throw APIError.notFound
    }

    private func match(method: String, path: String) -> (route: Route, parameters: [String: String])? {
        if let route = literal[method + " " + path] ?? (method == "HEAD" ? literal["GET " + path] : nil) {
            return (route, [:])
        }
        for route in routes where route.method == method || (method == "HEAD" && route.method == "GET") {
            if let parameters = Router.bind(route.segments, to: path) { return (route, parameters) }
        }
        return nil
    }

    static func segments(of pattern: String) -> [Segment] {
        pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            part.hasPrefix(":") ? .parameter(String(part.dropFirst())) : .literal(String(part))
        }
    }

    static func bind(_ segments: [Segment], to path: String) -> [String: String]? {
        guard path.hasPrefix("/") else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard parts.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case let .literal(text):
                guard part == text else { return nil }
            case let .parameter(name):
                guard !part.isEmpty else { return nil }
                parameters[name] = QueryString.decode(String(part))
            }
        }
        return parameters
    }
}
