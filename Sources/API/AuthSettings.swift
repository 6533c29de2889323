/// The authentication settings the routes need, taken from the configuration by `App`.
public struct AuthSettings: Sendable {
    /// `JWT_SECRET` (HS256 key, used as UTF-8 text).
    public var jwtSecret: String
    /// Access-cookie name prefix (`__miauflix_at`).
    public var accessCookiePrefix = "__miauflix_at"
    /// Refresh-cookie name prefix (`__miauflix_rt`).
    public var refreshCookiePrefix = "__miauflix_rt"
    /// Access-token lifetime in seconds.
    public var accessTTL = 900
    /// Refresh-token lifetime in seconds.
    public var refreshTTL = 604_800
    /// The refresh chain cap in days.
    public var chainCapDays = 30
    /// Sessions per user.
    public var maxSlots = 5
    /// `COOKIE_DOMAIN` (nil: host-only).
    public var cookieDomain: String?
    /// `COOKIE_SECURE`.
    public var cookieSecure = false
    /// `ALLOW_CREATE_ADMIN_ON_FIRST_RUN`.
    public var allowSetup = false
    /// `RATE_LIMIT_TEST_MODE` (read from the process environment, as the original).
    public var rateLimitTestMode = false
    /// Which requests get an `API_ACCESS` audit row.
    public var auditAccess: AuditAccessPolicy = .writes
    /// `CORS_ORIGIN` entries (`*` is a wildcard for requests without credentials).
    public var corsOrigins: [String] = []

    /// Creates settings.
    public init(jwtSecret: String) { self.jwtSecret = jwtSecret }
}

/// `AUDIT_API_ACCESS`: which requests write an `API_ACCESS` row. The original wrote one for
/// every request (health checks included); `writes` keeps the rows an admin reads — every
/// state change and every failed request — without a database write per page view.
public enum AuditAccessPolicy: String, Sendable {
    case all
    case writes
    case none
}
