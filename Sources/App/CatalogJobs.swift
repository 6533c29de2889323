import Domain
import Logging

/// Catalog job entry points shared by the engine's scheduler and `miauflix catalog`.
public enum CatalogJobs {
    /// Refreshes every built-in list; returns the number of entries stored.
    public static func refreshLists(configuration: Configuration, logger: Logger) throws -> Int {
        let database = try configuration.openDatabase(maximumReaderCount: 1)
        let tmdb = configuration.tmdbClient(logger: logger)
        var total = 0
        for info in MediaListInfo.builtIn {
            total += try DatabaseFirstLists.refresh(info, source: tmdb, database: database)
        }
        return total
    }
}
