import Crypto
import Domain
import Foundation
import Persistence
import QRCode
import WebCore

/// First-party device login for TVs (contract "Add"; RFC 8628's flow without Trakt):
/// 1. the TV calls `POST /api/auth/device` and shows the user code and a QR code of the
///    verification URL;
/// 2. a signed-in user opens the URL on a phone, sees which device asks
///    (`GET /api/auth/device/:userCode`) and approves or denies it;
/// 3. the TV polls `POST /api/auth/device/token` every `interval` seconds; once approved the
///    answer is a normal session for the approving user (the login body and cookies).
/// Codes expire after 10 minutes and are single use; every step is rate limited and audited.
/// The device code is 256 random bits, stored only as its SHA-256.
struct DeviceLoginRoutes {
    let environment: APIEnvironment
    let database: AppDatabase
    let auth: AuthRoutes

    static let lifetime: Double = 600
    static let interval = 5

    struct StartBody: Decodable {
        var deviceName: String?
    }

    struct StartDTO: Encodable {
        var deviceCode: String
        var userCode: String
        var verificationUrl: String
        var verificationUrlComplete: String
        var qrCode: String
        var expiresIn: Int
        var interval: Int
        var expiresAt: Date
    }

    struct TokenBody: Decodable {
        var deviceCode: String
    }

    struct RequestDTO: Encodable {
        var userCode: String
        var status: String
        var deviceName: String?
        var ipAddress: String?
        var userAgent: String?
        var createdAt: Date
        var expiresAt: Date
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("POST", "/api/auth/device", limit: 0.5, access: .open) { try start($0) }
        routes.on("POST", "/api/auth/device/token", limit: 1, access: .open) { try token($0) }
        routes.on("GET", "/api/auth/device/:userCode", limit: 1, access: .signedIn) { try show($0) }
        routes.on("POST", "/api/auth/device/:userCode/approve", limit: 1, access: .signedIn) { try decide($0, approve: true) }
        routes.on("POST", "/api/auth/device/:userCode/deny", limit: 1, access: .signedIn) { try decide($0, approve: false) }
    }

    func start(_ request: Request) throws -> Response {
        let body = request.body.isEmpty ? StartBody() : try Body.decode(StartBody.self, from: request)
        if let name = body.deviceName, name.count > 60 || name.contains(where: { $0.isNewline || $0 == "<" || $0 == ">" }) {
            throw APIError.validation([ValidationIssue(path: ["deviceName"], code: "invalid_value", message: "deviceName: at most 60 characters, one line, no < >")])
        }
        let now = environment.clock.now()
        let deviceCode = Encoding.base64URL(SecureRandom.bytes(32))
        var generator = SecureRandomGenerator()
        var userCode = DeviceUserCode.random(using: &generator)
        var stored = false
        for _ in 0..<5 {
            stored = try database.createDeviceLogin(deviceCodeHash: Self.hash(deviceCode), userCode: userCode.value,
                                                    deviceName: body.deviceName?.trimmingCharacters(in: .whitespaces),
                                                    ipAddress: request.clientIP, userAgent: request.headers["User-Agent"].map { String($0.prefix(500)) },
                                                    expiresAt: now.addingTimeInterval(Self.lifetime), now: now)
            if stored { break }
            userCode = DeviceUserCode.random(using: &generator)
        }
        guard stored else { throw APIError.internalError }
        let base = "https://\(Self.host(request))/device"
        let complete = base + "?code=" + userCode.value
        let qr = (try? QRCode(text: complete).svg()) ?? ""
        return .json(StartDTO(deviceCode: deviceCode, userCode: userCode.formatted, verificationUrl: base, verificationUrlComplete: complete,
                              qrCode: qr, expiresIn: Int(Self.lifetime), interval: Self.interval, expiresAt: now.addingTimeInterval(Self.lifetime)))
    }

    func token(_ request: Request) throws -> Response {
        let body = try Body.decode(TokenBody.self, from: request)
        guard (20...100).contains(body.deviceCode.count) else {
            throw APIError.validation([ValidationIssue(path: ["deviceCode"], code: "invalid_value", message: "deviceCode is the code POST /api/auth/device gave")])
        }
        let now = environment.clock.now()
        let outcome = try database.pollDeviceLogin(deviceCodeHash: Self.hash(body.deviceCode), minimumInterval: Double(Self.interval) * 0.8, now: now)
        func failure(_ status: Int, _ error: String, _ message: String) -> Response {
            struct Failure: Encodable { var error: String; var message: String }
            return .json(Failure(error: error, message: message), status: status)
        }
        switch outcome {
        case .unknown: return failure(404, "invalid_device_code", "Unknown device code")
        case .pending: return failure(400, "authorization_pending", "Waiting for approval")
        case .slowDown:
            var response = failure(429, "slow_down", "Poll every \(Self.interval) seconds")
            response.headers.add("Retry-After", String(Self.interval))
            return response
        case .expired: return failure(410, "expired_token", "The code expired; start again")
        case .denied: return failure(403, "access_denied", "The sign-in was denied")
        case .consumed: return failure(409, "already_used", "This code was already used")
        case let .approved(userId):
            guard let user = try database.user(id: userId), !user.disabled else { return failure(403, "access_denied", "Account disabled") }
            auth.event(.login, .info, "Successful device login", email: user.email, request: request, extra: ["method": .string("device")])
            return try auth.sessionResponse(user: user, request: request) { LoginDTO(session: $0, user: UserDTO(user)) }
        }
    }

    func show(_ request: Request) throws -> Response {
        let login = try pending(request)
        return .json(RequestDTO(userCode: DeviceUserCode(typed: login.userCode)?.formatted ?? login.userCode, status: login.status,
                                deviceName: login.deviceName, ipAddress: login.ipAddress, userAgent: login.userAgent,
                                createdAt: login.createdAt, expiresAt: login.expiresAt))
    }

    func decide(_ request: Request, approve: Bool) throws -> Response {
        guard let identity = request.identity else { throw APIError.unauthorized(detail: "Authentication required") }
        let login = try pending(request)
        guard login.status == "pending",
              try database.decideDeviceLogin(userCode: login.userCode, userId: identity.userId, approve: approve, now: environment.clock.now()) else {
            throw APIError.handler(status: 409, message: "This code was already \(login.status)")
        }
        auth.event(.deviceAuthorization, approve ? .info : .warning, approve ? "Device login approved" : "Device login denied",
                   email: identity.email, request: request,
                   extra: ["device": .string(login.deviceName ?? login.userAgent ?? "unknown"), "deviceIp": .string(login.ipAddress ?? "unknown")])
        return .json(["status": approve ? "approved" : "denied"])
    }

    func pending(_ request: Request) throws -> DeviceLoginRequest {
        guard let code = DeviceUserCode(typed: request.parameter("userCode") ?? ""),
              let login = try database.deviceLogin(userCode: code.value, now: environment.clock.now()) else {
            throw APIError.handler(status: 404, message: "Unknown or expired code")
        }
        return login
    }

    static func hash(_ deviceCode: String) -> String { Encoding.hex(Digest.sha256(Array(deviceCode.utf8))) }

    /// The host the TV reached us by (what the phone must open too); anything odd falls back
    /// to localhost rather than echoing it into a URL.
    static func host(_ request: Request) -> String {
        let host = request.headers["Host"] ?? ""
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        return !host.isEmpty && host.count <= 255 && host.allSatisfy(allowed.contains) ? host : "localhost"
    }
}
