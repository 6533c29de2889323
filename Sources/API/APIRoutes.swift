import Logging
import WebCore

/// What the API's routes need from the rest of the system.
public struct APIEnvironment: Sendable {
    /// Service states for `/api/status`.
    public var status: any StatusProviding
    /// Where unexpected handler errors are logged.
    public var logger: Logger

    /// Creates the environment.
    public init(status: any StatusProviding, logger: Logger) {
        self.status = status
        self.logger = logger
    }
}

/// The `/api` application: routes plus the middlewares every request passes.
public enum APIRoutes {
    /// Builds the responder the FastCGI workers serve.
    public static func makeResponder(_ environment: APIEnvironment) -> any Responder {
        var router = Router()
        // The health answer never changes: encode it once (health checks poll it constantly).
        let health = JSON.encode(HealthDTO(status: "ok"))
        router.on("GET", "/api/health") { _ in .json(bytes: health) }
        router.on("GET", "/api/status") { _ in .json(environment.status.status()) }
        let logger = environment.logger
        return Pipeline([NoStoreMiddleware()], terminal: router) { error, request in
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
