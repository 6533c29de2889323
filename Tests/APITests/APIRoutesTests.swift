import Foundation
import Logging
import Testing
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

    let api = APIRoutes.makeResponder(APIEnvironment(status: FixedStatus(), logger: Logger(label: "test")))

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
        let body = json(try api.respond(to: Request(method: "GET", path: "/api/status")))
        #expect(body["vpn"] as? NSDictionary == ["isVpnActive": NSNull(), "disabled": true])
        let services = body["services"] as? NSDictionary
        #expect(services?["TMDB"] as? NSDictionary == ["status": "needs_configuration", "missingVars": ["TMDB_API_ACCESS_TOKEN"]])
        #expect(services?["JWT"] as? NSDictionary == ["status": "ready"])
        #expect(services?["DOWNLOAD"] as? NSDictionary == ["status": "error", "errorMessage": "The engine is not running", "error": NSNull()])
        #expect(services?["SOURCE"] as? NSDictionary == ["status": "degraded", "reason": "vpn-disconnected"])
    }

    @Test func unknownRoutesAre404JSON() throws {
        let response = try api.respond(to: Request(method: "GET", path: "/api/nothing"))
        #expect(response.status == 404)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(json(response) == ["error": "Not found"])
    }
}
