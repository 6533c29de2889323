// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// Watch progress as players report it: the fraction (the reference's 0–1 `progress`, kept
// even when the player knows no duration) and the player's status.
enum Migration009Progress {
    static let identifier = "009-progress"

    static let sql = """
    ALTER TABLE progress_movie ADD COLUMN fraction REAL NOT NULL DEFAULT 0;
    ALTER TABLE progress_movie ADD COLUMN status TEXT NOT NULL DEFAULT 'watching';
    ALTER TABLE progress_episode ADD COLUMN fraction REAL NOT NULL DEFAULT 0;
    ALTER TABLE progress_episode ADD COLUMN status TEXT NOT NULL DEFAULT 'watching';
    """
}
