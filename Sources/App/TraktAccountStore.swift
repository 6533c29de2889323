import API
import Catalog
import Crypto
import Foundation
import HTTPClient
import Logging
import Persistence

/// Trakt accounts over the Trakt client, with tokens encrypted (AES-256-GCM under
/// `SOURCE_SECURITY_KEY`) before they reach the database.
struct TraktAccountStore: TraktAccounts {
    let client: any TraktAPI
    let database: AppDatabase
    let cipher: FieldCipher?

    func startDevice() throws(TraktError) -> TraktDeviceCode { try client.deviceCode() }

    func poll(deviceCode: String) throws(TraktError) -> TraktPoll { try client.poll(deviceCode: deviceCode, now: Date()) }

    func store(_ poll: TraktPoll, userId: String?) throws -> String? {
        guard case let .approved(tokens, slug, username) = poll, let cipher else { return nil }
        let owner = try userId ?? database.traktLink(slug: slug)?.userId
        guard let owner else { return nil }
        return try database.linkTrakt(userId: owner, slug: slug, username: username,
                                      accessToken: cipher.encryptString(tokens.accessToken),
                                      refreshToken: cipher.encryptString(tokens.refreshToken),
                                      expiresAt: tokens.expiresAt, now: Date())
    }

    /// Refreshes tokens that expire within `margin` (the engine's daily job). Returns how many.
    static func refreshExpiring(database: AppDatabase, client: any TraktAPI, cipher: FieldCipher, margin: TimeInterval,
                                now: Date, logger: Logger) throws -> Int {
        var count = 0
        for link in try database.traktLinksExpiring(before: now.addingTimeInterval(margin)) {
            guard let stored = link.refreshToken, let refreshToken = try? cipher.decryptString(stored) else { continue }
            do {
                let tokens = try client.refresh(refreshToken: refreshToken, now: now)
                try database.updateTraktTokens(id: link.id, accessToken: cipher.encryptString(tokens.accessToken),
                                               refreshToken: cipher.encryptString(tokens.refreshToken), expiresAt: tokens.expiresAt, now: now)
                count += 1
            } catch {
                logger.warning("trakt token refresh failed", metadata: ["event": "trakt_refresh_error", "slug": "\(link.traktSlug)"])
            }
        }
        return count
    }
}

extension Configuration {
    /// The Trakt client.
    func traktClient(logger: Logger, stats: (any StatsRecording)? = nil) -> TraktClient {
        var policy = HTTPClientPolicy()
        policy.options.totalTimeout = 8
        return TraktClient(baseURL: string("TRAKT_API_URL"), clientID: string("TRAKT_CLIENT_ID"),
                           clientSecret: string("TRAKT_CLIENT_SECRET"), http: HTTPClient(policy: policy.observed(by: stats, as: "trakt"), logger: logger))
    }

    /// The field cipher of `SOURCE_SECURITY_KEY`.
    var fieldCipher: FieldCipher? { try? FieldCipher(base64Key: string("SOURCE_SECURITY_KEY")) }
}
