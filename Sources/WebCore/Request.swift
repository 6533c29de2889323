/// A transport-neutral HTTP request, built by the FastCGI bridge or a test client.
///
/// Handlers never see the transport: everything they need (client IP, request id,
/// path parameters) is resolved before the router runs.
public struct Request: Sendable {
    /// Upper-case method (`GET`, `POST`, …).
    public var method: String
    /// Decoded path without the query string, e.g. `/api/movies/550`.
    public var path: String
    /// The raw query string without `?` (may be empty).
    public var rawQuery: String
    /// Request header fields.
    public var headers: HTTPHeaders
    /// The request body (already bounded by the transport's size limit).
    public var body: [UInt8]
    /// The client's address as resolved by `ClientIP` (`unknown` when none).
    public var clientIP: String
    /// 32 lower-case hex characters, echoed as `X-Request-ID`.
    public var requestID: String
    /// Parameters captured by the router (`:id` → value).
    public var pathParameters: [String: String] = [:]
    /// The signed-in user, set by the authentication middleware (nil: anonymous).
    public var identity: AuthIdentity?
    /// The route pattern that matched (`/api/movies/:id`), set by the router.
    public var routePattern: String?

    /// Creates a request.
    public init(method: String, path: String, rawQuery: String = "", headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], clientIP: String = "unknown", requestID: String = String(repeating: "0", count: 32)) {
        self.method = method.uppercased()
        self.path = path
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
        self.clientIP = clientIP
        self.requestID = requestID
    }

    /// Query parameters, percent-decoded, first occurrence wins.
    public var query: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in QueryString.parse(rawQuery) where result[key] == nil {
            result[key] = value
        }
        return result
    }

    /// Cookies sent in the `Cookie` header(s), first occurrence of a name wins.
    public var cookies: [String: String] {
        Cookies.parse(headers.values(for: "Cookie"))
    }

    /// A path parameter captured by the router.
    public func parameter(_ name: String) -> String? { pathParameters[name] }
}
