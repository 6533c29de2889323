// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// Episodes carry their runtime (the original had no column for it) and shows their last air
// date, both shown by the season and show pages.
enum Migration004Episodes {
    static let identifier = "004-episode-runtime-show-last-air-date"

    static let sql = """
    ALTER TABLE episode ADD COLUMN runtime INTEGER;
    ALTER TABLE tv_show ADD COLUMN lastAirDate TEXT;
    """
}
