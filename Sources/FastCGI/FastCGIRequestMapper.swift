import WebCore

/// Maps FastCGI parameters (CGI/1.1 meta-variables, as nginx's `fastcgi_params` sends them)
/// to a `WebCore.Request`. Pure: the body comes through a closure so it can be tested
/// without libfcgi.
public struct FastCGIRequestMapper: Sendable {
    /// The largest body read into memory; larger ones answer 413.
    public var maxBodyBytes: Int
    /// `REVERSE_PROXY_SECRET`, enabling `X-Forwarded-For` (reference §3.9).
    public var proxySecret: String?

    /// Creates a mapper.
    public init(maxBodyBytes: Int, proxySecret: String?) {
        self.maxBodyBytes = maxBodyBytes
        self.proxySecret = proxySecret
    }

    /// Why a request could not be mapped; each becomes a precise client error.
    public enum Failure: Error, Equatable {
        /// The body is over `maxBodyBytes`.
        case bodyTooLarge
        /// `CONTENT_LENGTH` is not a number, or the body ended early.
        case badBody
    }

    /// Builds the request. `readBody(n)` must return up to `n` bytes of the body.
    public func request(params: [String: String], requestID: String,
                        readBody: (Int) -> [UInt8]) throws(Failure) -> Request {
        var headers = HTTPHeaders()
        for (name, value) in params where name.utf8.starts(with: "HTTP_".utf8) {
            headers.add(Self.headerName(fromParam: name), value)
        }
        if let type = params["CONTENT_TYPE"], !type.isEmpty { headers.add("content-type", type) }
        if let length = params["CONTENT_LENGTH"], !length.isEmpty { headers.add("content-length", length) }

        let uri = params["REQUEST_URI"] ?? params["DOCUMENT_URI"] ?? "/"
        let path: String
        var rawQuery = params["QUERY_STRING"] ?? ""
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            if rawQuery.isEmpty { rawQuery = String(uri[uri.index(after: mark)...]) }
        } else {
            path = uri
        }

        var body: [UInt8] = []
        if let lengthText = params["CONTENT_LENGTH"], !lengthText.isEmpty {
            guard let length = Int(lengthText), length >= 0 else { throw .badBody }
            if length > maxBodyBytes { throw .bodyTooLarge }
            if length > 0 {
                body = readBody(length)
                guard body.count == length else { throw .badBody }
            }
        }

        let clientIP = ClientIP.resolve(remoteAddress: params["REMOTE_ADDR"], headers: headers, proxySecret: proxySecret)
        return Request(method: params["REQUEST_METHOD"] ?? "GET", path: path.isEmpty ? "/" : path,
                       rawQuery: rawQuery, headers: headers, body: body, clientIP: clientIP, requestID: requestID)
    }

    /// `HTTP_X_SESSION_ID` → `x-session-id`.
    static func headerName(fromParam name: String) -> String {
        let bytes = name.utf8.dropFirst(5).map { byte -> UInt8 in
            if byte == UInt8(ascii: "_") { return UInt8(ascii: "-") }
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { return byte | 0x20 }
            return byte
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The CGI response head for `response`: `Status:` line, then the header fields.
    public static func head(for response: Response) -> String {
        String(decoding: encodedHead(for: response), as: UTF8.self)
    }

    /// The head as bytes, built without intermediate Strings (this runs for every request).
    static func encodedHead(for response: Response, reservingBody: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + reservingBody)
        out.append(contentsOf: "Status: ".utf8)
        out.append(contentsOf: String(response.status).utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: HTTPStatus.reason(response.status).utf8)
        out.append(contentsOf: [13, 10])
        var hasLength = false
        for field in response.headers {
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: ": ".utf8)
            // Header injection guard: a value never carries CR or LF.
            for byte in field.value.utf8 where byte != 13 && byte != 10 { out.append(byte) }
            out.append(contentsOf: [13, 10])
            if !hasLength && HTTPHeaders.namesEqual(field.name, "Content-Length") { hasLength = true }
        }
        if !hasLength {
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(response.body.count).utf8)
            out.append(contentsOf: [13, 10])
        }
        out.append(contentsOf: [13, 10])
        return out
    }
}
