import Crypto
import Logging
import Persistence
import WebCore

/// The `/api` application: routes plus the middlewares every request passes.
///
/// Middleware order: no-store → CORS/Origin (preflights answered, foreign origins refused)
/// → authentication (identity from `X-Session-Id` + cookie) → audit (sees the identity and
/// the final status) → router (per route: rate limit and guard in the reference's order).
public enum APIRoutes {
    /// Builds the responder the FastCGI workers serve.
    public static func makeResponder(_ environment: APIEnvironment) -> any Responder {
        var routes = RouteBuilder(environment: environment)
        // The health answer never changes: encode it once (health checks poll it constantly).
        let health = JSON.encode(HealthDTO(status: "ok"))
        routes.on("GET", "/api/health", limit: 10, access: .open) { _ in .json(bytes: health) }
        routes.on("GET", "/api/status", limit: 10, access: .signedIn) { request in
            let status = environment.status.status()
            return .json(request.identity?.role == "admin" ? status : status.summary)
        }
        // Metrics in 5-minute frames over 24 h (reference §11.1), every process merged.
        if let stats = environment.stats {
            routes.on("GET", "/api/stats", limit: 10, access: .signedIn) { _ in
                guard let report = try? stats.report() else { throw APIError.handler(status: 503, message: "Statistics are not available") }
                return .json(report)
            }
        }
        // One AuthRoutes serves every route family that needs the signed-in user.
        var auth: AuthRoutes?
        if let database = environment.database {
            let cookies = SessionCookies(settings: environment.auth)
            let sessions = AuthRoutes(environment: environment, database: database, cookies: cookies, audit: environment.audit)
            auth = sessions
            sessions.register(&routes)
            UserRoutes(environment: environment, database: database, auth: sessions).register(&routes)
            AdminRoutes(environment: environment, database: database, auth: sessions).register(&routes)
            DeviceLoginRoutes(environment: environment, database: database, auth: sessions).register(&routes)
            ProgressRoutes(environment: environment, database: database, movies: environment.movies, shows: environment.shows).register(&routes)
            if let trakt = environment.trakt {
                TraktRoutes(trakt: trakt, database: database, auth: sessions, clock: environment.clock).register(&routes)
            }
        }
        if let movies = environment.movies {
            CatalogRoutes(catalog: movies, clock: environment.clock, sourceSearch: environment.sourceSearch, prefetch: environment.prefetch).register(&routes)
            if let database = environment.database, let auth {
                StreamKeyRoutes(environment: environment, database: database, movies: movies, auth: auth).register(&routes)
            }
        }
        if let search = environment.search {
            SearchRoutes(search: search).register(&routes)
        }
        if let shows = environment.shows {
            ShowRoutes(catalog: shows).register(&routes)
            if let database = environment.database, let auth {
                EpisodeStreamRoutes(environment: environment, database: database, shows: shows, auth: auth).register(&routes)
            }
        }
        if let lists = environment.lists {
            ListRoutes(catalog: lists, clock: environment.clock).register(&routes)
        }

        var middlewares: [any Middleware] = [
            NoStoreMiddleware(),
            CORSMiddleware(allowed: environment.auth.corsOrigins),
            AuthenticationMiddleware(jwt: HS256JWT(secret: environment.auth.jwtSecret),
                                     cookiePrefix: environment.auth.accessCookiePrefix, clock: environment.clock),
        ]
        if let stats = environment.stats { middlewares.insert(StatsMiddleware(stats: stats), at: 0) }
        if let audit = environment.audit { middlewares.append(AuditMiddleware(audit: audit, clock: environment.clock, policy: environment.auth.auditAccess)) }
        let logger = environment.logger
        return Pipeline(middlewares, terminal: routes.router) { error, request in
            logger.error("unhandled error", metadata: [
                "event": "api_error", "path": "\(request.path)", "request_id": "\(request.requestID)",
                "error": "\(type(of: error))",
            ])
        }
    }
}

/// `{"status":"ok"}`.
struct HealthDTO: Encodable {
    var status: String
}

/// API answers are per-user and must not be cached by browsers or proxies unless a route
/// says otherwise.
struct NoStoreMiddleware: Middleware {
    func respond(to request: Request, next: any Responder) throws -> Response {
        var response = try next.respond(to: request)
        if !response.headers.contains("Cache-Control") { response.headers.add("Cache-Control", "no-store") }
        return response
    }
}
