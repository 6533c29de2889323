// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// Source discovery: when a source's .torrent is next tried (failed fetches back off), and
// a movie's last search outcome.
enum Migration007SourceDiscovery {
    static let identifier = "007-source-discovery"

    static let sql = """
    ALTER TABLE movie_source ADD COLUMN fileAttempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE movie_source ADD COLUMN nextFileAttemptAt DATETIME;
    CREATE INDEX idx_movie_source_next_file ON movie_source(nextFileAttemptAt) WHERE file IS NULL;
    """
}
