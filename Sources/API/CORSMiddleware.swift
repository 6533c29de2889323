import WebCore

/// CORS as the original (reference §1.3) with `*` working as a real wildcard for requests
/// without credentials, and Origin validation for state-changing requests: a POST, PUT,
/// PATCH or DELETE whose `Origin` (or, lacking it, `Referer`) is neither this server nor an
/// allowed origin is refused with 403 before any handler runs. Requests without either
/// header (curl, TV apps) are not cross-site browser requests and pass.
struct CORSMiddleware: Middleware {
    let allowed: [String]

    var wildcard: Bool { allowed.contains("*") }

    func respond(to request: Request, next: any Responder) throws -> Response {
        let origin = request.headers["Origin"]
        let allowedOrigin = origin.flatMap { isAllowed($0) ? $0 : nil }

        if request.method == "OPTIONS" {
            var response = Response(status: 204)
            if let allowedOrigin { decorate(&response, origin: allowedOrigin) } else if wildcard, origin != nil {
                response.headers.add("Access-Control-Allow-Origin", "*")
            }
            response.headers.add("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,OPTIONS")
            response.headers.add("Access-Control-Allow-Headers", "Content-Type,Authorization,X-Session-Id")
            response.headers.add("Vary", "Origin")
            response.headers.add("Vary", "Access-Control-Request-Headers")
            return response
        }

        if ["POST", "PUT", "PATCH", "DELETE"].contains(request.method), !sameSiteOrAllowed(request) {
            throw APIError.handler(status: 403, message: "Origin not allowed")
        }

        var response = try next.respond(to: request)
        if let allowedOrigin {
            decorate(&response, origin: allowedOrigin)
        } else if wildcard, origin != nil, !hasCredentials(request) {
            response.headers.add("Access-Control-Allow-Origin", "*")
        }
        response.headers.add("Vary", "Origin")
        return response
    }

    private func decorate(_ response: inout Response, origin: String) {
        response.headers.add("Access-Control-Allow-Origin", origin)
        response.headers.add("Access-Control-Allow-Credentials", "true")
    }

    /// Exact matches only; `*` never echoes an origin with credentials.
    func isAllowed(_ origin: String) -> Bool {
        allowed.contains(origin)
    }

    func hasCredentials(_ request: Request) -> Bool {
        request.headers["Cookie"] != nil || request.headers["Authorization"] != nil
    }

    /// The origin of the request is this server (`https://<Host>`), an allowed origin, or absent.
    func sameSiteOrAllowed(_ request: Request) -> Bool {
        let claimed: String
        if let origin = request.headers["Origin"] {
            claimed = origin
        } else if let referer = request.headers["Referer"] {
            claimed = Self.origin(ofURL: referer) ?? referer
        } else {
            return true
        }
        if claimed == "null" { return false }
        if let host = request.headers["Host"], claimed == "https://\(host)" || claimed == "http://\(host)" { return true }
        return isAllowed(claimed) || (wildcard && !hasCredentials(request))
    }

    /// `scheme://host[:port]` of a URL.
    static func origin(ofURL url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty else { return nil }
        return String(url[..<schemeEnd.upperBound]) + authority
    }
}
