// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// Two-way Trakt sync: scrobbles waiting to be pushed (the API queues, the engine sends and
// retries), each user's Trakt watchlist, and when a link was last pulled.
enum Migration012TraktSync {
    static let identifier = "012-trakt-sync"

    static let sql = """
    CREATE TABLE trakt_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        action TEXT NOT NULL CHECK (action IN ('start', 'pause', 'stop')),
        kind TEXT NOT NULL CHECK (kind IN ('movie', 'episode')),
        tmdbId INTEGER NOT NULL,
        season INTEGER,
        episode INTEGER,
        progress REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        nextAttemptAt DATETIME NOT NULL,
        createdAt DATETIME NOT NULL
    );
    CREATE INDEX idx_trakt_outbox_due ON trakt_outbox(nextAttemptAt);
    CREATE TABLE trakt_watchlist (
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('movie', 'show')),
        tmdbId INTEGER NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        year INTEGER,
        listedAt DATETIME,
        PRIMARY KEY (userId, kind, tmdbId)
    ) WITHOUT ROWID;
    ALTER TABLE trakt_users ADD COLUMN lastPulledAt DATETIME;
    """
}
