import Foundation
import HTTPClient
import Logging

/// A Trakt device code to show the user (the QR code encodes `verificationURL/userCode`).
public struct TraktDeviceCode: Sendable, Equatable {
    public var deviceCode: String
    public var userCode: String
    public var verificationURL: String
    public var expiresIn: Int
    public var interval: Int
}

/// Trakt OAuth tokens.
public struct TraktTokens: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String
    public var expiresAt: Date

    public init(accessToken: String, refreshToken: String, expiresAt: Date) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
    }
}

/// The outcome of polling a device code.
public enum TraktPoll: Sendable, Equatable {
    /// The user has not approved yet.
    case pending
    /// Approved: tokens and the Trakt profile.
    case approved(TraktTokens, slug: String, username: String?)
}

/// Trakt failures.
public enum TraktError: Error, Equatable, Sendable {
    /// `TRAKT_CLIENT_ID` / `TRAKT_CLIENT_SECRET` missing.
    case notConfigured
    /// The code expired or was denied.
    case rejected
    /// Trakt could not be reached or answered nonsense.
    case upstream
}

/// The Trakt seam.
public protocol TraktAPI: Sendable {
    func deviceCode() throws(TraktError) -> TraktDeviceCode
    func poll(deviceCode: String, now: Date) throws(TraktError) -> TraktPoll
    func refresh(refreshToken: String, now: Date) throws(TraktError) -> TraktTokens
}

/// Trakt's device-code OAuth flow (reference internals §4.8): headers `trakt-api-version: 2`
/// and `trakt-api-key`; polling answers 400 while the user has not approved ("pending").
public final class TraktClient: TraktAPI, @unchecked Sendable {
    let baseURL: String
    let clientID: String?
    let clientSecret: String?
    let http: HTTPClient

    /// Creates a client.
    public init(baseURL: String, clientID: String?, clientSecret: String?, http: HTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.clientID = (clientID?.isEmpty ?? true) ? nil : clientID
        self.clientSecret = (clientSecret?.isEmpty ?? true) ? nil : clientSecret
        self.http = http
    }

    var headers: [String] { ["trakt-api-version: 2", "trakt-api-key: \(clientID ?? "")", "User-Agent: Miauflix/1.0"] }

    func post(_ path: String, _ body: [String: String]) throws(TraktError) -> HTTPResponse {
        guard let json = try? JSONSerialization.data(withJSONObject: body) else { throw .upstream }
        do { return try http.postJSON(baseURL + path, json: Array(json), headers: headers, budget: 8) } catch { throw .upstream }
    }

    public func deviceCode() throws(TraktError) -> TraktDeviceCode {
        guard let clientID else { throw .notConfigured }
        struct Answer: Decodable { var device_code: String; var user_code: String; var verification_url: String; var expires_in: Int; var interval: Int }
        let response = try post("/oauth/device/code", ["client_id": clientID])
        guard (200..<300).contains(response.status), let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)) else {
            throw .upstream
        }
        return TraktDeviceCode(deviceCode: answer.device_code, userCode: answer.user_code, verificationURL: answer.verification_url,
                               expiresIn: answer.expires_in, interval: answer.interval)
    }

    struct TokenAnswer: Decodable { var access_token: String; var refresh_token: String; var expires_in: Int }

    public func poll(deviceCode: String, now: Date) throws(TraktError) -> TraktPoll {
        guard let clientID, let clientSecret else { throw .notConfigured }
        let response = try post("/oauth/device/token", ["code": deviceCode, "client_id": clientID, "client_secret": clientSecret])
        switch response.status {
        case 200..<300: break
        case 400, 429: return .pending
        case 404, 409, 410, 418: throw .rejected
        default: throw .upstream
        }
        guard let token = try? JSONDecoder().decode(TokenAnswer.self, from: Data(response.body)) else { throw .upstream }
        struct Me: Decodable { struct IDs: Decodable { var slug: String? }; var username: String?; var ids: IDs? }
        let me: HTTPResponse
        do {
            me = try http.get(baseURL + "/users/me", headers: headers + ["Authorization: Bearer \(token.access_token)"], budget: 8)
        } catch { throw .upstream }
        guard (200..<300).contains(me.status), let profile = try? JSONDecoder().decode(Me.self, from: Data(me.body)),
              let slug = profile.ids?.slug ?? profile.username, !slug.isEmpty else { throw .upstream }
        return .approved(TraktTokens(accessToken: token.access_token, refreshToken: token.refresh_token,
                                     expiresAt: now.addingTimeInterval(Double(token.expires_in))),
                         slug: slug, username: profile.username)
    }

    public func refresh(refreshToken: String, now: Date) throws(TraktError) -> TraktTokens {
        guard let clientID, let clientSecret else { throw .notConfigured }
        let response = try post("/oauth/token", ["refresh_token": refreshToken, "client_id": clientID, "client_secret": clientSecret,
                                                 "redirect_uri": "urn:ietf:wg:oauth:2.0:oob", "grant_type": "refresh_token"])
        guard (200..<300).contains(response.status) else { throw response.status == 401 ? .rejected : .upstream }
        guard let token = try? JSONDecoder().decode(TokenAnswer.self, from: Data(response.body)) else { throw .upstream }
        return TraktTokens(accessToken: token.access_token, refreshToken: token.refresh_token,
                           expiresAt: now.addingTimeInterval(Double(token.expires_in)))
    }
}
