/// Every configuration variable Miauflix reads, with the original's names and defaults
/// (reference §6) and ours. This table is the one source for parsing, `config check` and
/// the README's configuration section.
public enum ConfigCatalog {
    /// All variables.
    public static let variables: [ConfigVariable] = [
        // JWT
        .init("JWT_SECRET", nil, service: "JWT", secret: true, required: true, auto: .hex(bytes: 32), "HS256 key for access tokens"),
        .init("STREAM_TOKEN_SECRET", nil, service: "JWT", secret: true, required: true, auto: .hex(bytes: 32), "HMAC key for streaming keys"),
        .init("STREAM_TOKEN_EXPIRATION", "6h", .duration, service: "JWT", "Streaming-key lifetime"),
        .init("STREAM_KEY_SALT", nil, service: "JWT", secret: true, required: true, auto: .hex(bytes: 32), "Salt of streaming-key hashes"),
        .init("REFRESH_TOKEN_COOKIE_NAME", "__miauflix_rt", service: "JWT", "Refresh-cookie name prefix"),
        .init("ACCESS_TOKEN_COOKIE_NAME", "__miauflix_at", service: "JWT", "Access-cookie name prefix"),
        .init("COOKIE_DOMAIN", "", service: "JWT", "Cookie Domain attribute (empty: host-only)"),
        .init("COOKIE_SECURE", "false", .bool, service: "JWT", "Secure attribute on cookies (make run sets true: nginx serves HTTPS only)"),
        .init("REFRESH_TOKEN_EXPIRATION", "7d", .duration, service: "JWT", "Refresh-token lifetime"),
        .init("ACCESS_TOKEN_EXPIRATION", "15m", .duration, service: "JWT", "Access-token lifetime"),
        .init("REFRESH_TOKEN_MAX_REFRESH_DAYS", "30", .int(1...365), service: "JWT", "Refresh chain cap in days"),
        .init("MAX_DEVICE_SLOTS_PER_USER", "5", .int(1...20), service: "JWT", "Sessions per user"),
        // SERVER
        .init("CORS_ORIGIN", "http://localhost:3000,http://localhost:4173,http://localhost:4174,http://localhost:4175", .list, service: "SERVER", "Allowed CORS origins"),
        .init("DATA_DIR", "./data", .path, service: "SERVER", "Database, secrets, certificates, logs, run files"),
        .init("REVERSE_PROXY_SECRET", "", service: "SERVER", secret: true, "Trust X-Forwarded-For when this header secret is sent (≥16 chars)"),
        .init("DISABLE_BACKGROUND_TASKS", "false", .bool, service: "SERVER", "Turn off the engine's scheduled jobs"),
        .init("METRICS_TOKEN", nil, service: "SERVER", secret: true, "Bearer token for a Prometheus scraper at /api/metrics (empty: admins only)"),
        .init("TRAKT_SYNC_INTERVAL", "15m", .duration, service: "TRAKT", "How often each linked Trakt account's history, resume points and watchlist are pulled"),
        .init("WATCHED_THRESHOLD", "90", .int(50...100), service: "SERVER", "Percent of a movie or episode after which it counts as watched"),
        .init("DISABLED_JOBS", "", .list, service: "SERVER", "Background jobs to turn off (names as in GET /api/admin/jobs)"),
        .init("JOB_INTERVALS", "", .list, service: "SERVER", "Job interval overrides, name=seconds (e.g. source-search=1)"),
        .init("ALLOW_CREATE_ADMIN_ON_FIRST_RUN", "false", .bool, service: "SERVER", "Use POST /api/auth/setup instead of printing a first admin"),
        .init("API_SOCKET", "", .path, service: "SERVER", "FastCGI socket (default DATA_DIR/run/api.sock)"),
        .init("ENGINE_SOCKET", "", .path, service: "SERVER", "Engine HTTP socket (default DATA_DIR/run/engine.sock)"),
        .init("API_WORKERS", "0", .int(0...256), service: "SERVER", "FastCGI worker processes (0: one per core)"),
        .init("API_THREADS", "4", .int(1...256), service: "SERVER", "Threads per worker"),
        .init("API_MAX_BODY_SIZE", "1MB", .size, service: "SERVER", "Largest accepted request body"),
        .init("API_DRAIN_TIMEOUT", "10s", .duration, service: "SERVER", "How long stopping waits for in-flight requests"),
        .init("SERVER_NAME", "localhost", service: "SERVER", "Host name nginx serves and the certificate names"),
        .init("LISTEN_ADDRESS", "0.0.0.0", service: "SERVER", "Address nginx listens on"),
        .init("HTTPS_PORT", "8443", .int(1...65535), service: "SERVER", "nginx HTTPS port"),
        .init("HTTP_PORT", "8080", .int(1...65535), service: "SERVER", "nginx HTTP port (redirects to HTTPS, serves ACME challenges)"),
        .init("LOG_LEVEL", "info", service: "SERVER", "trace, debug, info, notice, warning, error, critical"),
        .init("AUTH_RATE_LIMIT", "20", .int(1...100_000), service: "SERVER", "nginx's coarse per-IP ceiling for /api/auth/ (requests/s, burst twice that)"),
        .init("AUDIT_API_ACCESS", "writes", service: "SERVER", "API_ACCESS audit rows: all (every request, as the original), writes (state changes and failures) or none"),
        .init("AUDIT_RETENTION_DAYS", "90", .int(1...3650), service: "SERVER", "Days audit-log rows are kept"),
        // SOURCE
        .init("SOURCE_SECURITY_KEY", nil, .key32Base64, service: "SOURCE", secret: true, required: true, auto: .base64Key32, "AES-256-GCM key for encrypted columns"),
        .init("CONTENT_CONNECTION_LIMIT", "100", .int(1...10000), service: "SOURCE", "Peer connection limit"),
        .init("CONTENT_PORT", "6881", .int(0...65535), service: "SOURCE", "Incoming BitTorrent port, TCP and UDP for the DHT (0: any free port)"),
        .init("CONTENT_BIND_ADDRESS", "0.0.0.0", service: "SOURCE", "Address peer connections and tracker requests bind to"),
        .init("STREAM_START_TIMEOUT", "20s", .duration, service: "SOURCE", "A stream that cannot start within this answers 504"),
        .init("TORRENT_IDLE_TIMEOUT", "30m", .duration, service: "SOURCE", "A torrent no stream read for this long stops (files kept until evicted)"),
        // TMDB
        .init("TMDB_API_URL", "https://api.themoviedb.org/3", .url, service: "TMDB", "TMDB base URL including /3"),
        .init("TMDB_API_ACCESS_TOKEN", nil, service: "TMDB", secret: true, required: true, "TMDB v4 read access token"),
        .init("EPISODE_SYNC_MODE", "ON_DEMAND", service: "TMDB", "GREEDY or ON_DEMAND"),
        // TRAKT
        .init("TRAKT_API_URL", "https://api.trakt.tv", .url, service: "TRAKT", "Trakt base URL"),
        .init("TRAKT_CLIENT_ID", nil, service: "TRAKT", secret: true, required: true, "Trakt application client id"),
        .init("TRAKT_CLIENT_SECRET", nil, service: "TRAKT", secret: true, required: true, "Trakt application client secret"),
        // YTS / THE_RARBG
        .init("YTS_API_URL", "https://yts.mx", .url, service: "YTS", "YTS base URL"),
        .init("YTS_MIRRORS", "https://yts.lt,https://yts.gg,https://yts.am,https://yts.ag,https://yts.rs", .list, service: "YTS", "YTS mirrors tried after YTS_API_URL (failover, each retried later)"),
        .init("YTS_STATUS_URL", "https://yifystatus.com/", service: "YTS", "Status page listing official YTS mirrors (empty: no discovery)"),
        .init("THE_RARBG_API_URL", "https://therarbg.to", .url, service: "THE_RARBG", "TheRARBG base URL"),
        .init("THE_RARBG_MIRRORS", "https://therar.site", .list, service: "THE_RARBG", "TheRARBG mirrors tried after THE_RARBG_API_URL"),
        .init("TORRENT_CACHES", "https://itorrents.org/torrent/{HASH}.torrent,torrage+https://torrage.info", .list, service: "SOURCE", ".torrent caches: URL templates ({HASH}/{hash}: the info-hash) or torrage+<base> for torrage's two-step download"),
        .init("SCRAPE_TRACKERS", "udp://tracker.opentrackr.org:1337/announce,udp://tracker.openbittorrent.com:80/announce,udp://tracker.openbittorrent.com:6969/announce", .list, service: "SOURCE", "Trackers scraped for seeders/leechers"),
        // VPN
        .init("VPN_INTERFACE", "", service: "VPN", "VPN interface (e.g. wg0, nordlynx): all torrent and source traffic is bound to it, and stops while it is down"),
        .init("VPN_CHECK_URL", "", service: "VPN", "Exit check through the VPN every 5 minutes (NordVPN insights shape, e.g. https://api.nordvpn.com/v1/helpers/ips/insights); empty: off"),
        .init("DISABLE_VPN_CHECK", "false", .bool, service: "VPN", "Skip the VPN check (torrent traffic is then unprotected)"),
        // DOWNLOAD
        .init("CONTENT_DOWNLOAD_LIMIT", "20MB", .size, service: "DOWNLOAD", "Download rate limit per second"),
        .init("CONTENT_UPLOAD_LIMIT", "20MB", .size, service: "DOWNLOAD", "Upload rate limit per second"),
        .init("DISABLE_DISCOVERY", "false", .bool, service: "DOWNLOAD", "Disable the DHT and peer exchange (trackers only)"),
        .init("DHT_BOOTSTRAP_NODES", "router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881,dht.libtorrent.org:25401",
              .list, service: "DOWNLOAD", "DHT routers (host:port) asked when the routing table is thin"),
        .init("STATIC_TRACKERS", "", .list, service: "DOWNLOAD", "Extra trackers"),
        .init("PEER_ENCRYPTION", "prefer", .oneOf(["prefer", "require", "disable"]), service: "DOWNLOAD",
              "Peer connection encryption (MSE/PE): prefer (fall back to plain), require, or disable"),
        .init("DOWNLOAD_PATH", "", .path, service: "DOWNLOAD", "Download folder (default DATA_DIR/downloads)"),
        .init("DOWNLOAD_SALT", "miauflix-download-cache-salt-2024-secure-random-string", service: "DOWNLOAD", secret: true, "Salt for storage paths (≥32 chars)"),
        // STORAGE
        .init("STORAGE_THRESHOLD", "50GB", .size, service: "STORAGE", "Disk space for downloads"),
        .init("STORAGE_ENCRYPTION", "false", .bool, service: "STORAGE", "Encrypt downloads on disk (AES-256-CTR, a key per torrent)"),
    ]

    /// The variable called `name`.
    public static func variable(_ name: String) -> ConfigVariable? {
        variables.first { $0.name == name }
    }
}

extension ConfigCatalog {
    /// Variables `PUT /api/config` may not change: paths and sockets (the processes would lose
    /// each other) and the encryption key (use `miauflix keys rotate`).
    public static let readOnlyAtRuntime: Set<String> = [
        "DATA_DIR", "API_SOCKET", "ENGINE_SOCKET", "SOURCE_SECURITY_KEY", "LISTEN_ADDRESS", "HTTPS_PORT", "HTTP_PORT", "SERVER_NAME",
    ]

    /// The order of services in `GET /api/config` (the original's).
    public static let serviceOrder = ["JWT", "SERVER", "SOURCE", "THE_RARBG", "TMDB", "TRAKT", "VPN", "YTS", "DOWNLOAD", "STORAGE"]
}
