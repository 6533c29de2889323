// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// The upstream response cache (reference internals §4.7: the original kept it in a second
// SQLite file; one database is simpler to back up and needs no second lock).
enum Migration005ResponseCache {
    static let identifier = "005-response-cache"

    static let sql = """
    CREATE TABLE response_cache (
        key TEXT PRIMARY KEY NOT NULL,
        value BLOB NOT NULL,
        expiresAt DATETIME NOT NULL
    );
    CREATE INDEX idx_response_cache_expiresAt ON response_cache(expiresAt);
    """
}
