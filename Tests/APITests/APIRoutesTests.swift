import Foundation
import Logging
import Testing
import Crypto
import WebCore
@testable import API

@Suite struct APIRoutesTests {
    struct FixedStatus: StatusProviding {
        func status() -> StatusDTO {
            StatusDTO(vpn: .init(isVpnActive: nil, disabled: true),
                      services: ["TMDB": .needsConfiguration(missingVars: ["TMDB_API_ACCESS_TOKEN"]), "JWT": .ready,
                                 "DOWNLOAD": .error(message: "The engine is not running"), "SOURCE": .degraded(reason: "vpn-disconnected")])
        }
    }

    let api = APIRoutes.makeResponder(APIEnvironment(status: FixedStatus(), logger: Logger(label: "test"),
                                                     auth: AuthSettings(jwtSecret: "unit-test-secret")))

    /// A request carrying a valid access cookie for `role`.
    func signedIn(_ path: String, role: String) -> Request {
        let session = "AAAAAAAAAAAAAAAAAAAAAA"
        let now = Int(Date().timeIntervalSince1970)
        let token = HS256JWT(secret: "unit-test-secret").sign(AccessClaims(userId: "u1", email: "a@b.co", role: role, iat: now, exp: now + 60))
        return Request(method: "GET", path: path, headers: HTTPHeaders([("X-Session-Id", session), ("Cookie", "__miauflix_at_\(session)=\(token)")]))
    }

    func json(_ response: Response) -> NSDictionary {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? NSDictionary ?? [:]
    }

    @Test func health() throws {
        let response = try api.respond(to: Request(method: "GET", path: "/api/health"))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"status":"ok"}"#)
        #expect(response.headers["Cache-Control"] == "no-store")
    }

    @Test func statusHasTheReferenceShape() throws {
        #expect(try api.respond(to: Request(method: "GET", path: "/api/status")).status == 401)
        let body = json(try api.respond(to: signedIn("/api/status", role: "admin")))
        #expect(body["vpn"] as? NSDictionary == ["isVpnActive": NSNull(), "disabled": true])
        let services = body["services"] as? NSDictionary
        #expect(services?["TMDB"] as? NSDictionary == ["status": "needs_configuration", "missingVars": ["TMDB_API_ACCESS_TOKEN"]])
        #expect(services?["JWT"] as? NSDictionary == ["status": "ready"])
        #expect(services?["DOWNLOAD"] as? NSDictionary == ["status": "error", "errorMessage": "The engine is not running", "error": NSNull()])
        #expect(services?["SOURCE"] as? NSDictionary == ["status": "degraded", "reason": "vpn-disconnected"])
        let userView = json(try api.respond(to: signedIn("/api/status", role: "user")))
        #expect((userView["services"] as? NSDictionary)?["DOWNLOAD"] as? NSDictionary == ["status": "error", "errorMessage": "unavailable", "error": NSNull()])
    }

    @Test func unknownRoutesAre404JSON() throws {
        let response = try api.respond(to: Request(method: "GET", path: "/api/nothing"))
        #expect(response.status == 404)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(json(response) == ["error": "Not found"])
    }
}
