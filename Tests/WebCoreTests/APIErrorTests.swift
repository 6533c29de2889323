import Foundation
import Testing
@testable import WebCore

@Suite struct APIErrorTests {
    func body(_ error: APIError) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(error.response.body))) as? [String: Any] ?? [:]
    }

    @Test func contractBodies() {
        #expect(body(.handler(status: 409, message: "User already exists")) as NSDictionary == ["error": "User already exists"])
        #expect(body(.unauthorized(detail: "Invalid token")) as NSDictionary == ["error": "Authentication required", "message": "Invalid token"])
        #expect(APIError.forbidden.response.status == 403)
        #expect(body(.notConfigured(service: "TMDB")) as NSDictionary ==
                ["error": "Service 'TMDB' is not configured", "needsConfiguration": true, "service": "TMDB"])
        #expect(APIError.notConfigured(service: "TMDB").response.status == 503)
    }

    @Test func rateLimitIsPlainTextWithRetryAfter() {
        let response = APIError.rateLimited(retryAfterSeconds: 0).response
        #expect(response.status == 429)
        #expect(String(decoding: response.body, as: UTF8.self) == "Too Many Requests")
        #expect(response.headers["Content-Type"] == "text/plain; charset=UTF-8")
        #expect(response.headers["Retry-After"] == "1")
    }

    @Test func validationKeepsSuccessFalseAndAnErrorObject() {
        let decoded = body(.validation([ValidationIssue(path: ["email"], code: "invalid_format", message: "Invalid email")]))
        #expect(decoded["success"] as? Bool == false)
        let error = decoded["error"] as? [String: Any]
        #expect(error?["message"] as? String == "email: Invalid email")
    }

    struct Login: Decodable { var email: String; var password: String }

    @Test func malformedJSONIs400NotA500() {
        #expect(throws: APIError.malformedJSON) { try JSON.decodeBody(Login.self, from: Array("{\"email\":".utf8)) }
        #expect(APIError.malformedJSON.response.status == 400)
    }

    @Test func wrongShapeIsValidationWithPath() {
        #expect(throws: APIError.validation([ValidationIssue(path: ["password"], code: "invalid_type", message: "Required")])) {
            try JSON.decodeBody(Login.self, from: Array(#"{"email":"a@b.c"}"#.utf8))
        }
    }
}

@Suite struct CookieAndQueryTests {
    @Test func parsesCookiesFirstWins() {
        let cookies = Cookies.parse(["a=1; b = two ; a=3", "c=\"quoted\"; junk; =x"])
        #expect(cookies == ["a": "1", "b": "two", "c": "quoted"])
    }

    @Test func setCookieAttributeOrderMatchesTheContract() {
        let cookie = SetCookie(name: "__miauflix_rt_abc", value: "tok", maxAge: 604800, domain: "example.org",
                               path: "/api/auth/", secure: true)
        #expect(cookie.headerValue == "__miauflix_rt_abc=tok; Max-Age=604800; Domain=example.org; Path=/api/auth/; HttpOnly; Secure; SameSite=Strict")
    }

    @Test func queryDecodingIsTolerant() {
        let pairs = QueryString.parse("q=star+wars&x=%E2%9C%93&bad=%zz&flag&=empty")
        #expect(pairs.map { $0.0 } == ["q", "x", "bad", "flag", ""])
        #expect(pairs[0].1 == "star wars")
        #expect(pairs[1].1 == "✓")
        #expect(pairs[2].1 == "%zz")
        #expect(QueryString.decode("%") == "%")
        #expect(QueryString.decode("%ff%fe") == "%ff%fe", "invalid UTF-8 stays as it was")
    }

    @Test func requestIDs() {
        var generator = SystemRandomNumberGenerator()
        let id = RequestID.make(using: &generator)
        #expect(RequestID.isValid(id))
        #expect(!RequestID.isValid("ABCDEF0123456789abcdef0123456789"))
        #expect(!RequestID.isValid("abc"))
    }
}

@Suite struct ClientIPTests {
    let secret = "0123456789abcdef-proxy"

    @Test func socketAddressByDefault() {
        let headers = HTTPHeaders([("X-Forwarded-For", "6.6.6.6")])
        #expect(ClientIP.resolve(remoteAddress: "10.0.0.2", headers: headers, proxySecret: nil) == "10.0.0.2")
        #expect(ClientIP.resolve(remoteAddress: "10.0.0.2", headers: headers, proxySecret: secret) == "10.0.0.2")
    }

    @Test func forwardedForOnlyWithTheSecret() {
        let headers = HTTPHeaders([("X-Forwarded-For", " 203.0.113.9 , 10.0.0.1"), ("X-Reverse-Proxy-Secret", secret)])
        #expect(ClientIP.resolve(remoteAddress: "127.0.0.1", headers: headers, proxySecret: secret) == "203.0.113.9")
        #expect(ClientIP.resolve(remoteAddress: "127.0.0.1", headers: headers, proxySecret: "short") == "127.0.0.1")
        let wrong = HTTPHeaders([("X-Forwarded-For", "203.0.113.9"), ("X-Reverse-Proxy-Secret", secret + "x")])
        #expect(ClientIP.resolve(remoteAddress: "127.0.0.1", headers: wrong, proxySecret: secret) == "127.0.0.1")
    }

    @Test func garbageBecomesUnknown() {
        let headers = HTTPHeaders([("X-Forwarded-For", "<script>"), ("X-Reverse-Proxy-Secret", secret)])
        #expect(ClientIP.resolve(remoteAddress: nil, headers: headers, proxySecret: secret) == "unknown")
        #expect(ClientIP.resolve(remoteAddress: "::1", headers: HTTPHeaders(), proxySecret: nil) == "::1")
    }
}
