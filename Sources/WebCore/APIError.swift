/// One issue of a validation failure, shaped like the original's zod issues.
public struct ValidationIssue: Sendable, Equatable, Codable {
    /// The JSON path of the offending value.
    public var path: [String]
    /// A machine-readable code (`invalid_type`, `too_small`, `invalid_format`, `custom`).
    public var code: String
    /// A human-readable message.
    public var message: String

    /// Creates an issue.
    public init(path: [String], code: String, message: String) {
        self.path = path
        self.code = code
        self.message = message
    }
}

/// Every error a handler can answer with, mapped to the contract's error-body families.
///
/// Internal details never reach a body: `.internalError` always renders a fixed message.
public enum APIError: Error, Sendable, Equatable {
    /// `{"error": message}` with the given status (handler-level errors).
    case handler(status: Int, message: String)
    /// 401 `{"error":"Authentication required","message": detail}`.
    case unauthorized(detail: String)
    /// 403 `{"error":"Insufficient permissions","message":"Insufficient permissions"}`.
    case forbidden
    /// 503 `{"error":"Service '<s>' is not configured","needsConfiguration":true,"service":"<s>"}`.
    case notConfigured(service: String)
    /// 429 `Too Many Requests` (plain text) with `Retry-After` seconds.
    case rateLimited(retryAfterSeconds: Int)
    /// 400 `{"success":false,"error":{"name":"ValidationError","message":…,"issues":[…]}}`.
    case validation([ValidationIssue])
    /// 400 `{"error":"Malformed JSON in request body"}`.
    case malformedJSON
    /// 413 `{"error":"Request body too large"}`.
    case payloadTooLarge(limit: Int)
    /// 404 `{"error":"Not found"}`.
    case notFound
    /// 405 with `Allow`.
    case methodNotAllowed(allowed: [String])
    /// 500 with a generic body; the cause is logged, never sent.
    case internalError

    /// The response the client sees for this error.
    public var response: Response {
        switch self {
        case let .handler(status, message):
            return .json(ErrorBody(error: message), status: status)
        case let .unauthorized(detail):
            return .json(AuthErrorBody(error: "Authentication required", message: detail), status: 401)
        case .forbidden:
            return .json(AuthErrorBody(error: "Insufficient permissions", message: "Insufficient permissions"), status: 403)
        case let .notConfigured(service):
            return .json(NotConfiguredBody(error: "Service '\(service)' is not configured",
                                           needsConfiguration: true, service: service), status: 503)
        case let .rateLimited(retryAfter):
            var response = Response.text("Too Many Requests", status: 429)
            response.headers.add("Retry-After", String(max(1, retryAfter)))
            return response
        case let .validation(issues):
            return .json(ValidationBody(issues: issues), status: 400)
        case .malformedJSON:
            return .json(ErrorBody(error: "Malformed JSON in request body"), status: 400)
        case let .payloadTooLarge(limit):
            return .json(ErrorBody(error: "Request body too large (limit \(limit) bytes)"), status: 413)
        case .notFound:
            return .json(ErrorBody(error: "Not found"), status: 404)
        case let .methodNotAllowed(allowed):
            var response = Response.json(ErrorBody(error: "Method not allowed"), status: 405)
            response.headers.add("Allow", allowed.joined(separator: ", "))
            return response
        case .internalError:
            return .json(InternalErrorBody(), status: 500)
        }
    }
}

/// `{"error": "..."}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    /// The message.
    public var error: String
    /// Creates the body.
    public init(error: String) { self.error = error }
}

struct AuthErrorBody: Encodable {
    var error: String
    var message: String
}

struct NotConfiguredBody: Encodable {
    var error: String
    var needsConfiguration: Bool
    var service: String
}

struct ValidationBody: Encodable {
    struct Detail: Encodable {
        var name = "ValidationError"
        var message: String
        var issues: [ValidationIssue]
    }
    var success = false
    var error: Detail

    init(issues: [ValidationIssue]) {
        let summary = issues.map { issue in
            issue.path.isEmpty ? issue.message : "\(issue.path.joined(separator: ".")): \(issue.message)"
        }.joined(separator: "; ")
        error = Detail(message: summary, issues: issues)
    }
}

struct InternalErrorBody: Encodable {
    var success = false
    var message = "Internal Server Error"
    var status = 500
}
