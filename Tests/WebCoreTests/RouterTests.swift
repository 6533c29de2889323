import Testing
@testable import WebCore

@Suite struct RouterTests {
    func router() -> Router {
        var router = Router()
        router.on("GET", "/api/movies/:id") { request in .text("movie \(request.parameter("id") ?? "-")") }
        router.on("POST", "/api/movies/:tmdbId/:quality") { request in
            .text("\(request.parameter("tmdbId")!)@\(request.parameter("quality")!)")
        }
        router.on("GET", "/api/health") { _ in .text("ok") }
        return router
    }

    @Test func capturesDecodedParameters() throws {
        let response = try router().respond(to: Request(method: "GET", path: "/api/movies/55%200"))
        #expect(String(decoding: response.body, as: UTF8.self) == "movie 55 0")
        let two = try router().respond(to: Request(method: "POST", path: "/api/movies/550/1080p"))
        #expect(String(decoding: two.body, as: UTF8.self) == "550@1080p")
    }

    @Test func encodedSlashStaysInsideOneSegment() throws {
        let response = try router().respond(to: Request(method: "GET", path: "/api/movies/a%2Fb"))
        #expect(String(decoding: response.body, as: UTF8.self) == "movie a/b")
    }

    @Test func strictAboutTrailingSlashesAndEmptySegments() {
        #expect(throws: APIError.notFound) { try router().respond(to: Request(method: "GET", path: "/api/health/")) }
        #expect(throws: APIError.notFound) { try router().respond(to: Request(method: "GET", path: "/api/movies/")) }
        #expect(throws: APIError.notFound) { try router().respond(to: Request(method: "GET", path: "/api//health")) }
        #expect(throws: APIError.notFound) { try router().respond(to: Request(method: "GET", path: "api/health")) }
    }

    @Test func headUsesGetWithoutBody() throws {
        let response = try router().respond(to: Request(method: "HEAD", path: "/api/health"))
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
    }

    @Test func knownPathWithOtherMethodIs405WithAllow() {
        #expect(throws: APIError.methodNotAllowed(allowed: ["GET"])) {
            try router().respond(to: Request(method: "DELETE", path: "/api/health"))
        }
        let response = APIError.methodNotAllowed(allowed: ["GET", "POST"]).response
        #expect(response.status == 405)
        #expect(response.headers["allow"] == "GET, POST")
    }

    @Test func patternLookupForRateLimits() {
        #expect(router().pattern(method: "GET", path: "/api/movies/550") == "/api/movies/:id")
        #expect(router().pattern(method: "GET", path: "/api/unknown") == nil)
    }
}

@Suite struct PipelineTests {
    struct Tag: Middleware {
        let name: String
        func respond(to request: Request, next: any Responder) throws -> Response {
            var response = try next.respond(to: request)
            response.headers.add("X-Seen", name)
            return response
        }
    }

    struct Boom: Error {}

    @Test func middlewaresSeeErrorResponsesAndRunInOrder() throws {
        let terminal = ClosureResponder { _ in throw APIError.notFound }
        let response = try Pipeline([Tag(name: "outer"), Tag(name: "inner")], terminal: terminal).respond(to: Request(method: "GET", path: "/"))
        #expect(response.status == 404)
        #expect(response.headers.values(for: "X-Seen") == ["inner", "outer"])
    }

    @Test func unknownErrorsBecomeGeneric500WithoutDetails() throws {
        final class Box: @unchecked Sendable { var seen: (any Error)? }
        let box = Box()
        let terminal = ClosureResponder { _ in throw Boom() }
        let response = try Pipeline([], terminal: terminal) { error, _ in box.seen = error }.respond(to: Request(method: "GET", path: "/"))
        #expect(response.status == 500)
        let body = String(decoding: response.body, as: UTF8.self)
        #expect(body == #"{"message":"Internal Server Error","status":500,"success":false}"#)
        #expect(box.seen is Boom)
    }
}
