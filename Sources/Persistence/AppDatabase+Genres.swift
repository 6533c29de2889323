import Foundation
import GRDB

extension AppDatabase {
    /// Whether every genre in `ids` has a name in `language`.
    public func hasGenreNames(_ ids: [Int], language: String) throws -> Bool {
        guard !ids.isEmpty else { return true }
        return try writer.unsafeReentrantRead { db in
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM genre_translation WHERE language = ? AND genreId IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                                         arguments: StatementArguments([language] + ids.map { $0 as any DatabaseValueConvertible })) ?? 0
            return count >= Set(ids).count
        }
    }

    /// Movie genres that have titles and an English name, by name (for the per-genre lists).
    public func movieGenres() throws -> [(id: Int, name: String)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT g.genreId AS id, g.name FROM genre_translation g
                WHERE g.language = 'en' AND EXISTS (SELECT 1 FROM movie_genres_genre j WHERE j.genreId = g.genreId)
                ORDER BY g.name
                """).map { ($0["id"], $0["name"]) }
        }
    }

    /// Stores genre names of one language (only for genres we know).
    public func storeGenreNames(_ names: [Int: String], language: String) throws {
        try writer.write { db in
            for (id, name) in names {
                try db.execute(sql: """
                    INSERT INTO genre_translation (genreId, name, language) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM genre WHERE id = ?)
                    ON CONFLICT(genreId, language) DO UPDATE SET name = excluded.name
                    """, arguments: [id, name, language, id])
            }
        }
    }
}
