import Foundation
import Persistence

extension Configuration {
    /// Opens the shared database (migrating under the cross-process lock) and, on the very
    /// first start, creates the initial admin and prints its two lines on stdout.
    public func openDatabase(maximumReaderCount: Int = 4) throws -> AppDatabase {
        let database = try AppDatabase.open(path: databasePath, maximumReaderCount: maximumReaderCount)
        if let lines = try InitialAdmin.createIfNeeded(database: database, configuration: self) {
            for line in lines { print(line) }
            fflush(nil)
        }
        return database
    }
}
