// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// `GET /api/stats`: 5-minute metric frames merged from every process (API workers and the
// engine). One row per metric and frame; the cleanup job drops frames older than a day.
enum Migration008Stats {
    static let identifier = "008-stats"

    static let sql = """
    CREATE TABLE stat_frame (
        name TEXT NOT NULL,
        frame INTEGER NOT NULL,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL,
        sum REAL NOT NULL DEFAULT 0,
        min REAL NOT NULL DEFAULT 0,
        max REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (name, frame)
    ) WITHOUT ROWID;
    CREATE INDEX idx_stat_frame_frame ON stat_frame(frame);
    """
}
