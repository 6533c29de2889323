// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// A movie or show row can come from a list page (a summary) before its details were fetched;
// `detailsSyncedAt` says whether the full details (translations, imdb id, runtime) are stored,
// so the database-first read knows when to ask TMDB anyway.
enum Migration003CatalogSync {
    static let identifier = "003-catalog-details-sync"

    static let sql = """
    ALTER TABLE movie ADD COLUMN detailsSyncedAt DATETIME;
    ALTER TABLE tv_show ADD COLUMN detailsSyncedAt DATETIME;
    CREATE INDEX idx_movie_popularity ON movie(popularity);
    CREATE INDEX idx_tv_show_popularity ON tv_show(popularity);
    """
}
