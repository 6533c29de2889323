// libFuzzer target: the request-side parsers of WebCore (query strings, cookies, routing,
// JSON bodies, client IP, Set-Cookie rendering) on arbitrary input. Built by fuzz/run.sh into
// one module with Sources/WebCore.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWeb(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    _ = QueryString.parse(text)
    _ = QueryString.decode(text, plusAsSpace: true)
    _ = Cookies.parse([text])
    let headers = HTTPHeaders([("X-Forwarded-For", text), ("X-Reverse-Proxy-Secret", "0123456789abcdef")])
    _ = ClientIP.resolve(remoteAddress: text, headers: headers, proxySecret: "0123456789abcdef")
    var router = Router()
    router.on("GET", "/api/movies/:id") { _ in .text("ok") }
    router.on("POST", "/api/auth/refresh/:session") { _ in .text("ok") }
    _ = try? router.respond(to: Request(method: "GET", path: text))
    _ = try? router.respond(to: Request(method: "POST", path: "/api/auth/refresh/" + text))
    struct Body: Decodable { var email: String; var password: String }
    _ = try? JSON.decodeBody(Body.self, from: bytes)
    var window: [Int64] = bytes.prefix(64).map { Int64($0) }
    _ = RateLimitPolicy.decide(limit: Double(bytes.first ?? 1) / 10, now: 1000, window: &window)
    return 0
}
