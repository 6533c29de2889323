import Testing
import WebCore
@testable import FastCGI

@Suite struct FastCGIRequestMapperTests {
    let mapper = FastCGIRequestMapper(maxBodyBytes: 16, proxySecret: nil)
    let id = String(repeating: "a", count: 32)

    @Test func mapsMethodPathQueryHeadersAndClientIP() throws {
        let params = ["REQUEST_METHOD": "post", "REQUEST_URI": "/api/movies/550?lang=en&x=1", "QUERY_STRING": "lang=en&x=1",
                      "HTTP_X_SESSION_ID": "abc", "HTTP_COOKIE": "a=1", "CONTENT_TYPE": "application/json",
                      "CONTENT_LENGTH": "2", "REMOTE_ADDR": "192.0.2.7"]
        let request = try mapper.request(params: params, requestID: id) { n in Array("{}".utf8.prefix(n)) }
        #expect(request.method == "POST")
        #expect(request.path == "/api/movies/550")
        #expect(request.query == ["lang": "en", "x": "1"])
        #expect(request.headers["X-Session-Id"] == "abc")
        #expect(request.cookies == ["a": "1"])
        #expect(request.headers["Content-Type"] == "application/json")
        #expect(request.body == Array("{}".utf8))
        #expect(request.clientIP == "192.0.2.7")
        #expect(request.requestID == id)
    }

    @Test func bodyLimits() {
        #expect(throws: FastCGIRequestMapper.Failure.bodyTooLarge) {
            try mapper.request(params: ["CONTENT_LENGTH": "17"], requestID: id) { _ in Issue.record("must not read"); return [] }
        }
        #expect(throws: FastCGIRequestMapper.Failure.badBody) {
            try mapper.request(params: ["CONTENT_LENGTH": "-1"], requestID: id) { _ in [] }
        }
        #expect(throws: FastCGIRequestMapper.Failure.badBody) {
            try mapper.request(params: ["CONTENT_LENGTH": "10"], requestID: id) { _ in [1, 2] }
        }
    }

    @Test func responseHeadHasStatusLengthAndNoInjectedLines() {
        var response = Response.text("hi", status: 404)
        response.headers.add("X-Evil", "a\r\nSet-Cookie: x=1")
        let head = FastCGIRequestMapper.head(for: response)
        #expect(head.hasPrefix("Status: 404 Not Found\r\n"))
        #expect(head.contains("Content-Length: 2\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
        #expect(!head.contains("\r\nSet-Cookie"))
    }
}
