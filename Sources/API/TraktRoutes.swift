import Catalog
import Domain
import Foundation
import Persistence
import WebCore

/// The port to Trakt accounts (implemented by `App`: Trakt client + encrypted token storage).
public protocol TraktAccounts: Sendable {
    /// Starts a device-code flow.
    func startDevice() throws(TraktError) -> TraktDeviceCode
    /// Polls a device code.
    func poll(deviceCode: String) throws(TraktError) -> TraktPoll
    /// Stores the approved tokens (encrypted) on the link of `slug`, linking it to `userId`
    /// when given. Returns the link id.
    func store(_ poll: TraktPoll, userId: String?) throws -> String?
}

/// Trakt login and linking (reference #9, #10, #22–#25) with the original's bugs fixed:
/// new slugs can be linked, tokens are encrypted at rest, "pending" is reported as pending,
/// Trakt logins are audited, unknown users are a 404.
struct TraktRoutes {
    let trakt: any TraktAccounts
    let database: AppDatabase
    let auth: AuthRoutes
    let clock: APIClock

    struct DeviceDTO: Encodable {
        var codeUrl: String
        var userCode: String
        var deviceCode: String
        var expiresIn: Int
        var interval: Int
        var expiresAt: String
    }

    struct DeviceCodeBody: Decodable { var deviceCode: String }
    struct AssociateBody: Decodable { var traktSlug: String; var userEmail: String }
    struct Pending: Encodable { var success = false; var pending = true }
    struct Linked: Encodable { var success = true; var session: String; var user: UserDTO }

    func register(_ routes: inout RouteBuilder) {
        routes.on("POST", "/api/auth/device/trakt", limit: 2, access: .open) { _ in try start() }
        routes.on("POST", "/api/auth/login/trakt", limit: 1, access: .open) { try login($0) }
        routes.on("POST", "/api/trakt/auth/device", limit: 2, access: .signedIn) { _ in try start() }
        routes.on("POST", "/api/trakt/auth/device/check", limit: 1, access: .signedIn) { try check($0) }
        routes.on("GET", "/api/trakt/association", limit: 5, access: .signedIn) { try association($0) }
        routes.on("POST", "/api/trakt/admin/associate", limit: 1, access: .admin) { try associate($0) }
    }

    static func map(_ error: TraktError, failure: String) -> APIError {
        switch error {
        case .notConfigured: return .notConfigured(service: "TRAKT")
        case .rejected, .upstream: return .handler(status: 401, message: failure)
        }
    }

    func start() throws -> Response {
        let code: TraktDeviceCode
        do { code = try trakt.startDevice() } catch {
            if error == .notConfigured { throw APIError.notConfigured(service: "TRAKT") }
            throw APIError.handler(status: 500, message: "Failed to initiate Trakt authentication")
        }
        let expiresAt = ISO8601DateFormatter().string(from: clock.now().addingTimeInterval(Double(code.expiresIn)))
        return .json(DeviceDTO(codeUrl: "\(code.verificationURL)/\(code.userCode)", userCode: code.userCode, deviceCode: code.deviceCode,
                               expiresIn: code.expiresIn, interval: code.interval, expiresAt: expiresAt))
    }

    func deviceCode(_ request: Request) throws -> String {
        let body = try Body.decode(DeviceCodeBody.self, from: request)
        guard !body.deviceCode.isEmpty, body.deviceCode.count <= 256 else {
            throw APIError.validation([ValidationIssue(path: ["deviceCode"], code: "too_small", message: "Required")])
        }
        return body.deviceCode
    }

    func login(_ request: Request) throws -> Response {
        let code = try deviceCode(request)
        let result: TraktPoll
        do { result = try trakt.poll(deviceCode: code) } catch {
            throw Self.map(error, failure: "Failed to check Trakt authentication status")
        }
        guard case let .approved(_, slug, _) = result else { return .json(Pending()) }
        guard let link = try database.traktLink(slug: slug), let user = try database.user(id: link.userId), !user.disabled else {
            auth.event(.loginFailure, .warning, "Trakt login for an unlinked account", email: nil, request: request,
                       extra: ["traktSlug": .string(slug)], urgent: true)
            throw APIError.handler(status: 401, message: "Trakt account not associated with a user")
        }
        _ = try trakt.store(result, userId: nil)
        auth.event(.login, .info, "Successful login via Trakt", email: user.email, request: request, extra: ["traktSlug": .string(slug)])
        return try auth.sessionResponse(user: user, request: request) { LoginDTO(session: $0, user: UserDTO(user)) }
    }

    func check(_ request: Request) throws -> Response {
        guard let identity = request.identity, let user = try database.user(id: identity.userId) else {
            throw APIError.unauthorized(detail: "Invalid token")
        }
        let code = try deviceCode(request)
        let result: TraktPoll
        do { result = try trakt.poll(deviceCode: code) } catch {
            throw Self.map(error, failure: "Failed to check Trakt authentication status")
        }
        guard case let .approved(_, slug, username) = result else { return .json(Pending()) }
        _ = try trakt.store(result, userId: user.id)
        auth.event(.apiAccess, .info, "User linked Trakt account: \(username ?? slug)", email: user.email, request: request,
                   extra: ["traktSlug": .string(slug), "traktUsername": .string(username ?? "")])
        return try auth.sessionResponse(user: user, request: request) { Linked(session: $0, user: UserDTO(user)) }
    }

    func association(_ request: Request) throws -> Response {
        struct Association: Encodable {
            var associated: Bool
            var traktUsername: String?
            var traktSlug: String?
            enum Keys: String, CodingKey { case associated, traktUsername, traktSlug }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(associated, forKey: .associated)
                try c.encode(traktUsername, forKey: .traktUsername)
                try c.encode(traktSlug, forKey: .traktSlug)
            }
        }
        let link = try request.identity.flatMap { try database.traktLink(userId: $0.userId) }
        return .json(Association(associated: link != nil, traktUsername: link?.traktUsername, traktSlug: link?.traktSlug))
    }

    func associate(_ request: Request) throws -> Response {
        let body = try Body.decode(AssociateBody.self, from: request)
        var validator = Validator()
        validator.email(body.userEmail, field: "userEmail")
        validator.nonEmpty(body.traktSlug, field: "traktSlug")
        try validator.finish()
        guard let user = try database.user(email: body.userEmail) else { throw APIError.handler(status: 404, message: "User not found") }
        let id = try database.linkTrakt(userId: user.id, slug: body.traktSlug, username: nil, accessToken: nil, refreshToken: nil,
                                        expiresAt: nil, now: clock.now())
        auth.event(.userUpdate, .info, "Admin associated Trakt account \(body.traktSlug) with user \(user.email)",
                   email: request.identity?.email, request: request,
                   extra: ["traktSlug": .string(body.traktSlug), "targetUserEmail": .string(user.email), "associationId": .string(id)])
        struct Result: Encodable {
            struct Association: Encodable { var id: String; var traktSlug: String; var userEmail: String }
            var success = true
            var association: Association
        }
        return .json(Result(association: .init(id: id, traktSlug: body.traktSlug, userEmail: user.email)))
    }
}
