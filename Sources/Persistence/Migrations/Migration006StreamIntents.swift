// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// Watch Now writes an intent the engine picks up (so it starts fetching before the player
// asks); a streaming key remembers the source it was issued for.
enum Migration006StreamIntents {
    static let identifier = "006-stream-intents"

    static let sql = """
    ALTER TABLE streaming_key ADD COLUMN sourceId INTEGER REFERENCES movie_source(id) ON DELETE CASCADE;
    CREATE TABLE stream_intent (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        userId TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        movieId INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
        sourceId INTEGER REFERENCES movie_source(id) ON DELETE CASCADE,
        createdAt DATETIME NOT NULL,
        consumedAt DATETIME
    );
    CREATE INDEX idx_stream_intent_pending ON stream_intent(createdAt) WHERE consumedAt IS NULL;
    """
}
