/// A transport-neutral HTTP response.
public struct Response: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields, in the order they are sent.
    public var headers: HTTPHeaders
    /// The body bytes.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain; charset=UTF-8` response.
    public static func text(_ text: String, status: Int = 200) -> Response {
        Response(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=UTF-8")]),
                 body: Array(text.utf8))
    }

    /// An `application/json` response from already-encoded JSON bytes.
    public static func json(bytes: [UInt8], status: Int = 200) -> Response {
        Response(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: bytes)
    }

    /// An `application/json` response from an `Encodable` value.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) -> Response {
        json(bytes: JSON.encode(value), status: status)
    }

    /// A response with no body.
    public static func empty(status: Int = 204) -> Response {
        Response(status: status)
    }
}
