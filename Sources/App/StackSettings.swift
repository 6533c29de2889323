/// The settings the shell scripts (nginx rendering, start/stop) take from the one
/// configuration, so ports, paths and limits have a single source. Never a secret.
public enum StackSettings {
    /// `MIAUFLIX_*` name/value pairs.
    public static func assignments(_ configuration: Configuration) -> [(String, String)] {
        let body = configuration.bytes("API_MAX_BODY_SIZE")
        return [
            ("MIAUFLIX_DATA_DIR", configuration.dataDirectory),
            ("MIAUFLIX_RUN_DIR", configuration.runDirectory),
            ("MIAUFLIX_API_SOCKET", configuration.apiSocket),
            ("MIAUFLIX_ENGINE_SOCKET", configuration.engineSocket),
            ("MIAUFLIX_SERVER_NAME", configuration.string("SERVER_NAME")),
            ("MIAUFLIX_LISTEN_ADDRESS", configuration.string("LISTEN_ADDRESS")),
            ("MIAUFLIX_HTTPS_PORT", configuration.string("HTTPS_PORT")),
            ("MIAUFLIX_HTTP_PORT", configuration.string("HTTP_PORT")),
            ("MIAUFLIX_API_MAX_BODY_BYTES", String(body)),
            // nginx refuses bodies a little above the API's limit, so the API's precise
            // JSON 413 answers the common case and nginx only stops the absurd ones.
            ("MIAUFLIX_NGINX_BODY_LIMIT", "\((body + (1 << 20)) / 1024)k"),
            ("MIAUFLIX_AUTH_RATE", configuration.string("AUTH_RATE_LIMIT")),
            ("MIAUFLIX_AUTH_BURST", String(configuration.int("AUTH_RATE_LIMIT") * 2)),
            ("MIAUFLIX_API_DRAIN_SECONDS", String(configuration.seconds("API_DRAIN_TIMEOUT"))),
        ]
    }
}
