// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// TV episodes end to end. A source now belongs to a movie or to a show (a single episode
// or a season pack: `episode` NULL); streaming keys and intents name a movie or an episode.
// SQLite cannot relax NOT NULL in place, so the three tables are rebuilt (the documented
// create-copy-drop-rename procedure; GRDB runs migrations with foreign keys deferred, and
// other tables' REFERENCES movie_source keep pointing at the table of that name). The
// original's name `movie_source` stays, for compatibility with its schema.
enum Migration011EpisodeSources {
    static let identifier = "011-episode-sources"

    static let sql = """
    CREATE TABLE movie_source_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        movieId INTEGER REFERENCES movie(id) ON DELETE CASCADE,
        tvShowId INTEGER REFERENCES tv_show(id) ON DELETE CASCADE,
        season INTEGER,
        episode INTEGER,
        ih VARCHAR(92) NOT NULL,
        ml TEXT NOT NULL,
        u TEXT,
        quality INTEGER,
        size INTEGER NOT NULL DEFAULT 0,
        videoCodec INTEGER,
        broadcasters INTEGER,
        watchers INTEGER,
        source TEXT NOT NULL,
        sourceType INTEGER,
        file BLOB,
        sourceUploadedAt DATETIME,
        streamingScore INTEGER NOT NULL DEFAULT 0,
        lastStatsCheck DATETIME,
        nextStatsCheckAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        fileAttempts INTEGER NOT NULL DEFAULT 0,
        nextFileAttemptAt DATETIME,
        CHECK ((movieId IS NULL) != (tvShowId IS NULL)),
        CHECK (tvShowId IS NULL OR season IS NOT NULL),
        UNIQUE (movieId, ih),
        UNIQUE (tvShowId, ih)
    );
    INSERT INTO movie_source_new (id, movieId, ih, ml, u, quality, size, videoCodec, broadcasters, watchers, source, sourceType, file,
                                  sourceUploadedAt, streamingScore, lastStatsCheck, nextStatsCheckAt, createdAt, updatedAt,
                                  fileAttempts, nextFileAttemptAt)
        SELECT id, movieId, ih, ml, u, quality, size, videoCodec, broadcasters, watchers, source, sourceType, file,
               sourceUploadedAt, streamingScore, lastStatsCheck, nextStatsCheckAt, createdAt, updatedAt, fileAttempts, nextFileAttemptAt
        FROM movie_source;
    DROP TABLE movie_source;
    ALTER TABLE movie_source_new RENAME TO movie_source;
    CREATE INDEX idx_movie_source_missing_file ON movie_source(movieId) WHERE file IS NULL;
    CREATE INDEX idx_movie_source_score ON movie_source(movieId, streamingScore) WHERE file IS NOT NULL;
    CREATE INDEX idx_movie_source_nextStatsCheckAt ON movie_source(nextStatsCheckAt);
    CREATE INDEX idx_movie_source_next_file ON movie_source(nextFileAttemptAt) WHERE file IS NULL;
    CREATE INDEX idx_movie_source_episode ON movie_source(tvShowId, season, episode);

    CREATE TABLE streaming_key_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        keyHash VARCHAR(64) NOT NULL UNIQUE,
        movieId INTEGER REFERENCES movie(id) ON DELETE CASCADE,
        episodeId INTEGER REFERENCES episode(id) ON DELETE CASCADE,
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        sourceId INTEGER REFERENCES movie_source(id) ON DELETE CASCADE,
        expiresAt DATETIME NOT NULL,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        CHECK ((movieId IS NULL) != (episodeId IS NULL))
    );
    INSERT INTO streaming_key_new (id, keyHash, movieId, userId, sourceId, expiresAt, createdAt)
        SELECT id, keyHash, movieId, userId, sourceId, expiresAt, createdAt FROM streaming_key;
    DROP TABLE streaming_key;
    ALTER TABLE streaming_key_new RENAME TO streaming_key;
    CREATE INDEX idx_streaming_key_expiresAt ON streaming_key(expiresAt);

    CREATE TABLE stream_intent_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        movieId INTEGER REFERENCES movie(id) ON DELETE CASCADE,
        episodeId INTEGER REFERENCES episode(id) ON DELETE CASCADE,
        sourceId INTEGER REFERENCES movie_source(id) ON DELETE CASCADE,
        createdAt DATETIME NOT NULL,
        consumedAt DATETIME,
        CHECK ((movieId IS NULL) != (episodeId IS NULL))
    );
    INSERT INTO stream_intent_new (id, userId, movieId, sourceId, createdAt, consumedAt)
        SELECT id, userId, movieId, sourceId, createdAt, consumedAt FROM stream_intent;
    DROP TABLE stream_intent;
    ALTER TABLE stream_intent_new RENAME TO stream_intent;
    CREATE INDEX idx_stream_intent_pending ON stream_intent(createdAt) WHERE consumedAt IS NULL;

    ALTER TABLE tv_show ADD COLUMN nextSourceSearchAt DATETIME;
    ALTER TABLE tv_show ADD COLUMN sourceSearchedAt DATETIME;
    """
}
