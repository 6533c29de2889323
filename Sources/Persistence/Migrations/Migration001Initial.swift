// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// The full data model of the original (docs/reference miauflix-api.md §7: table and column
// names kept, camelCase columns) plus our additions: role `guest` and `disabled` on users,
// per-title progress for movies and episodes, device-login codes, job runs and the engine
// heartbeat. tv_show.tmdbId is unique here (the original's missing constraint was a bug).
enum Migration001Initial {
    static let identifier = "001-initial-schema"

    static let sql = """
    CREATE TABLE users (
        id TEXT PRIMARY KEY NOT NULL,
        email TEXT NOT NULL UNIQUE,
        passwordHash TEXT,
        role VARCHAR(10) NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user', 'guest')),
        isEmailVerified BOOLEAN NOT NULL DEFAULT 0,
        displayName VARCHAR(255),
        disabled BOOLEAN NOT NULL DEFAULT 0,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_users_role ON users(role);

    CREATE TABLE refresh_tokens (
        id TEXT PRIMARY KEY NOT NULL,
        tokenHash VARCHAR(64) NOT NULL UNIQUE,
        expiresAt DATETIME NOT NULL,
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        session VARCHAR(64) NOT NULL,
        userAgent VARCHAR(500),
        lastIpAddress VARCHAR(45),
        lastAccessedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        accessCount INTEGER NOT NULL DEFAULT 1,
        issueIpAddress VARCHAR(45),
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE (userId, session)
    );
    CREATE INDEX idx_refresh_tokens_userId ON refresh_tokens(userId);
    CREATE INDEX idx_refresh_tokens_session ON refresh_tokens(session);
    CREATE INDEX idx_refresh_tokens_expiresAt ON refresh_tokens(expiresAt);

    CREATE TABLE audit_logs (
        id TEXT PRIMARY KEY NOT NULL,
        eventType VARCHAR(25) NOT NULL,
        severity VARCHAR(10) NOT NULL DEFAULT 'INFO',
        description VARCHAR(500),
        ipAddress VARCHAR(50),
        userAgent TEXT,
        metadata TEXT,
        userEmail TEXT,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_audit_logs_createdAt ON audit_logs(createdAt);
    CREATE INDEX idx_audit_logs_eventType ON audit_logs(eventType, createdAt);

    CREATE TABLE trakt_users (
        id TEXT PRIMARY KEY NOT NULL,
        userId TEXT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
        traktSlug TEXT NOT NULL UNIQUE,
        traktUsername TEXT,
        accessToken TEXT,
        refreshToken TEXT,
        tokenExpiresAt DATETIME,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );

    CREATE TABLE genre (
        id INTEGER PRIMARY KEY NOT NULL
    );
    CREATE TABLE genre_translation (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        genreId INTEGER NOT NULL REFERENCES genre(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        UNIQUE (genreId, language)
    );

    CREATE TABLE movie (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tmdbId INTEGER NOT NULL UNIQUE,
        imdbId VARCHAR(11) UNIQUE,
        title TEXT NOT NULL DEFAULT '',
        overview TEXT NOT NULL DEFAULT '',
        runtime INTEGER NOT NULL DEFAULT 0,
        tagline TEXT NOT NULL DEFAULT '',
        trailer VARCHAR(500),
        rating DECIMAL(4,2) NOT NULL DEFAULT 0,
        popularity FLOAT NOT NULL DEFAULT 0,
        releaseDate TEXT NOT NULL DEFAULT '',
        poster TEXT NOT NULL DEFAULT '',
        backdrop TEXT NOT NULL DEFAULT '',
        logo TEXT NOT NULL DEFAULT '',
        contentDirectoriesSearched TEXT NOT NULL DEFAULT '[]',
        nextSourceSearchAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_movie_nextSourceSearchAt ON movie(nextSourceSearchAt);
    CREATE TABLE movie_genres_genre (
        movieId INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
        genreId INTEGER NOT NULL REFERENCES genre(id) ON DELETE CASCADE,
        PRIMARY KEY (movieId, genreId)
    );
    CREATE INDEX idx_movie_genres_genre_genreId ON movie_genres_genre(genreId);
    CREATE TABLE movie_translation (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        language TEXT NOT NULL,
        movieId INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
        overview TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        tagline TEXT NOT NULL DEFAULT '',
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE (movieId, language)
    );

    CREATE TABLE movie_source (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        movieId INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
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
        UNIQUE (movieId, ih)
    );
    CREATE INDEX idx_movie_source_missing_file ON movie_source(movieId) WHERE file IS NULL;
    CREATE INDEX idx_movie_source_score ON movie_source(movieId, streamingScore) WHERE file IS NOT NULL;
    CREATE INDEX idx_movie_source_nextStatsCheckAt ON movie_source(nextStatsCheckAt);

    CREATE TABLE streaming_key (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        keyHash VARCHAR(64) NOT NULL UNIQUE,
        movieId INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        expiresAt DATETIME NOT NULL,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_streaming_key_expiresAt ON streaming_key(expiresAt);

    CREATE TABLE storage (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        movieSourceId INTEGER NOT NULL UNIQUE REFERENCES movie_source(id) ON DELETE CASCADE,
        downloadedPieces BLOB,
        size INTEGER NOT NULL DEFAULT 0,
        downloaded INTEGER NOT NULL DEFAULT 0,
        location VARCHAR(500) NOT NULL,
        lastAccessAt DATETIME,
        lastWriteAt DATETIME,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_storage_lastAccessAt ON storage(lastAccessAt);

    CREATE TABLE tv_show (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tmdbId INTEGER NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        overview TEXT NOT NULL DEFAULT '',
        firstAirDate TEXT,
        poster TEXT NOT NULL DEFAULT '',
        backdrop TEXT NOT NULL DEFAULT '',
        imdbId TEXT,
        status TEXT NOT NULL DEFAULT '',
        tagline TEXT NOT NULL DEFAULT '',
        type TEXT NOT NULL DEFAULT '',
        inProduction BOOLEAN NOT NULL DEFAULT 0,
        episodeRunTime TEXT NOT NULL DEFAULT '',
        popularity FLOAT NOT NULL DEFAULT 0,
        rating FLOAT NOT NULL DEFAULT 0,
        watching BOOLEAN NOT NULL DEFAULT 0,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE tv_show_genres_genre (
        tvShowId INTEGER NOT NULL REFERENCES tv_show(id) ON DELETE CASCADE,
        genreId INTEGER NOT NULL REFERENCES genre(id) ON DELETE CASCADE,
        PRIMARY KEY (tvShowId, genreId)
    );
    CREATE INDEX idx_tv_show_genres_genre_genreId ON tv_show_genres_genre(genreId);
    CREATE TABLE tv_show_translation (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tvShowId INTEGER NOT NULL REFERENCES tv_show(id) ON DELETE CASCADE,
        language TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        overview TEXT NOT NULL DEFAULT '',
        tagline TEXT NOT NULL DEFAULT '',
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE (tvShowId, language)
    );
    CREATE TABLE season (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tmdbId INTEGER NOT NULL,
        tvShowId INTEGER NOT NULL REFERENCES tv_show(id) ON DELETE CASCADE,
        seasonNumber INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        overview TEXT NOT NULL DEFAULT '',
        airDate TEXT,
        posterPath TEXT,
        synced BOOLEAN NOT NULL DEFAULT 0,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE (tvShowId, seasonNumber)
    );
    CREATE INDEX idx_season_unsynced ON season(tvShowId) WHERE synced = 0;
    CREATE TABLE episode (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tmdbId INTEGER NOT NULL,
        seasonId INTEGER NOT NULL REFERENCES season(id) ON DELETE CASCADE,
        episodeNumber INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        overview TEXT NOT NULL DEFAULT '',
        airDate VARCHAR(50),
        stillPath TEXT NOT NULL DEFAULT '',
        imdbId TEXT,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE (seasonId, episodeNumber)
    );

    CREATE TABLE media_list (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        slug TEXT NOT NULL UNIQUE,
        description TEXT
    );
    CREATE TABLE media_list_movies_movie (
        mediaListId INTEGER NOT NULL REFERENCES media_list(id) ON DELETE CASCADE,
        movieId INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (mediaListId, movieId)
    );
    CREATE INDEX idx_media_list_movies_movie_movieId ON media_list_movies_movie(movieId);
    CREATE TABLE media_list_tv_shows_tv_show (
        mediaListId INTEGER NOT NULL REFERENCES media_list(id) ON DELETE CASCADE,
        tvShowId INTEGER NOT NULL REFERENCES tv_show(id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (mediaListId, tvShowId)
    );
    CREATE INDEX idx_media_list_tv_shows_tv_show_tvShowId ON media_list_tv_shows_tv_show(tvShowId);
    CREATE TABLE media_list_seasons_season (
        mediaListId INTEGER NOT NULL REFERENCES media_list(id) ON DELETE CASCADE,
        seasonId INTEGER NOT NULL REFERENCES season(id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (mediaListId, seasonId)
    );

    CREATE TABLE sync_state (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        lastSync DATETIME
    );

    -- The original's (unused) progress table, kept for compatibility of the schema.
    CREATE TABLE progress (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        progress FLOAT NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT '',
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );

    -- Our watch progress: one row per user and title, upserted by the player every few seconds.
    CREATE TABLE progress_movie (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        movieId INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
        positionSeconds REAL NOT NULL DEFAULT 0,
        durationSeconds REAL NOT NULL DEFAULT 0,
        watched BOOLEAN NOT NULL DEFAULT 0,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE (userId, movieId)
    );
    CREATE INDEX idx_progress_movie_recent ON progress_movie(userId, updatedAt);
    CREATE TABLE progress_episode (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        episodeId INTEGER NOT NULL REFERENCES episode(id) ON DELETE CASCADE,
        positionSeconds REAL NOT NULL DEFAULT 0,
        durationSeconds REAL NOT NULL DEFAULT 0,
        watched BOOLEAN NOT NULL DEFAULT 0,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE (userId, episodeId)
    );
    CREATE INDEX idx_progress_episode_recent ON progress_episode(userId, updatedAt);

    -- First-party device login: the TV shows userCode, a signed-in phone approves it.
    CREATE TABLE device_code (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        deviceCodeHash VARCHAR(64) NOT NULL UNIQUE,
        userCode VARCHAR(16) NOT NULL UNIQUE,
        status VARCHAR(10) NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'approved', 'denied', 'consumed')),
        userId TEXT REFERENCES users(id) ON DELETE CASCADE,
        ipAddress VARCHAR(45),
        userAgent VARCHAR(500),
        expiresAt DATETIME NOT NULL,
        approvedAt DATETIME,
        createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_device_code_expiresAt ON device_code(expiresAt);

    -- One row per background job execution (engine scheduler), for the admin jobs view.
    CREATE TABLE job_run (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job TEXT NOT NULL,
        startedAt DATETIME NOT NULL,
        finishedAt DATETIME,
        status VARCHAR(10) NOT NULL DEFAULT 'running'
            CHECK (status IN ('running', 'success', 'failure', 'skipped')),
        itemsProcessed INTEGER NOT NULL DEFAULT 0,
        error TEXT
    );
    CREATE INDEX idx_job_run_job ON job_run(job, startedAt);

    -- The engine's liveness, read by /api/status.
    CREATE TABLE engine_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        startedAt DATETIME NOT NULL,
        heartbeatAt DATETIME NOT NULL
    );
    """
}
