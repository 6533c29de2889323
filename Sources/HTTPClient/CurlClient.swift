// A minimal synchronous HTTP client over libcurl. libcurl (not URLSession or
// AsyncHTTPClient) because it can bind outbound traffic to an interface or address, which
// the VPN kill switch needs, and it is already on every machine. Retries, rate limits and
// caching are layered on top in later issues.
import CCurl
import Foundation

/// A response: status, header fields in order, body.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields (lower-cased names).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Typed transport failures; none carries a URL query (which may hold secrets).
public enum HTTPClientError: Error, Equatable, Sendable {
    /// Connect or total timeout.
    case timeout
    /// The host name did not resolve.
    case dns
    /// TLS handshake or certificate failure.
    case tls
    /// The connection was refused or reset.
    case connection
    /// The body exceeded the cap.
    case bodyTooLarge
    /// Anything else, with libcurl's code.
    case other(code: Int)
}

/// Request options.
public struct HTTPRequestOptions: Sendable {
    /// Connection timeout in seconds.
    public var connectTimeout: Double = 5
    /// Total timeout in seconds.
    public var totalTimeout: Double = 15
    /// The largest body accepted.
    public var maxBodyBytes: Int = 8 << 20
    /// Outbound interface or address (`CURLOPT_INTERFACE`), e.g. the VPN's.
    public var interface: String?
    /// Extra request header lines (`Name: value`).
    public var headers: [String] = []
    /// Connect to this unix socket instead of the URL's host (`CURLOPT_UNIX_SOCKET_PATH`).
    public var unixSocket: String?

    /// Default options.
    public init() {}
}

/// Performs requests with libcurl.
public enum CurlClient {
    /// GET `url` on a given easy handle (reset first; its connection cache is kept, so
    /// consecutive requests to one host reuse the connection).
    static func send(method: String, url: String, body: [UInt8]?, options: HTTPRequestOptions,
                     handle: UnsafeMutableRawPointer) throws(HTTPClientError) -> HTTPResponse {
        curl_easy_reset(handle)
        if method != "GET" {
            _ = ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        }
        if let body {
            _ = ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            _ = body.withUnsafeBufferPointer { pointer in
                ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: pointer.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            }
        }
        return try perform(url, options: options, handle: handle)
    }

    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        return true
    }()

    /// GET `url`.
    public static func get(_ url: String, options: HTTPRequestOptions = HTTPRequestOptions()) throws(HTTPClientError) -> HTTPResponse {
        _ = initialized
        guard let handle = curl_easy_init() else { throw .other(code: -1) }
        defer { curl_easy_cleanup(handle) }
        return try perform(url, options: options, handle: handle)
    }

    static func perform(_ url: String, options: HTTPRequestOptions, handle: UnsafeMutableRawPointer) throws(HTTPClientError) -> HTTPResponse {
        _ = initialized
        final class Sink {
            var body: [UInt8] = []
            var headers: [(name: String, value: String)] = []
            var limit = 0
            var overflow = false
        }
        let sink = Sink()
        sink.limit = options.maxBodyBytes
        let context = Unmanaged.passUnretained(sink).toOpaque()

        _ = ccurl_setopt_string(handle, CURLOPT_URL, url)
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(options.totalTimeout * 1000))
        _ = ccurl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        if let interface = options.interface { _ = ccurl_setopt_string(handle, CURLOPT_INTERFACE, interface) }
        if let socket = options.unixSocket { _ = ccurl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket) }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in options.headers { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        if let list { _ = ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list)) }

        _ = ccurl_setopt_write_function(handle) { data, size, count, user in
            let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
            let length = size * count
            if sink.body.count + length > sink.limit {
                sink.overflow = true
                return 0
            }
            data.map { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: $0, count: length)) }
            return length
        }
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_header_function(handle) { data, size, count, user in
            let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
            let length = size * count
            guard let data else { return length }
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            if line.hasPrefix("HTTP/") { sink.headers = [] }
            if let colon = line.firstIndex(of: ":") {
                sink.headers.append((name: line[..<colon].lowercased(),
                                     value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            return length
        }
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)

        let code = curl_easy_perform(handle)
        if sink.overflow { throw .bodyTooLarge }
        switch code {
        case CURLE_OK:
            var status = 0
            _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
        case CURLE_OPERATION_TIMEDOUT: throw .timeout
        case CURLE_COULDNT_RESOLVE_HOST: throw .dns
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION: throw .tls
        case CURLE_COULDNT_CONNECT, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING: throw .connection
        default: throw .other(code: Int(code.rawValue))
        }
    }
}
