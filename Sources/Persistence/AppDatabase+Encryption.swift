import Foundation
import GRDB

/// An encrypted column: where it lives and how its values are stored.
public struct EncryptedColumn: Sendable, Equatable {
    /// Table.
    public let table: String
    /// Column.
    public let column: String
    /// Base64 text (true) or a blob (false).
    public let isText: Bool
    /// Encrypted deterministically (so it can be unique).
    public let deterministic: Bool
}

extension AppDatabase {
    /// Every column holding field-encrypted data (contract: `movie_source.ih/ml/u/file`,
    /// Trakt tokens).
    public static let encryptedColumns: [EncryptedColumn] = [
        EncryptedColumn(table: "movie_source", column: "ih", isText: true, deterministic: true),
        EncryptedColumn(table: "movie_source", column: "ml", isText: true, deterministic: false),
        EncryptedColumn(table: "movie_source", column: "u", isText: true, deterministic: false),
        EncryptedColumn(table: "movie_source", column: "file", isText: false, deterministic: false),
        EncryptedColumn(table: "trakt_users", column: "accessToken", isText: true, deterministic: false),
        EncryptedColumn(table: "trakt_users", column: "refreshToken", isText: true, deterministic: false),
    ]

    /// Rewrites every encrypted value with `transform` in ONE transaction: if any value
    /// fails, nothing changes. Returns the number of values rewritten.
    public func reencryptAll(_ transform: (EncryptedColumn, [UInt8]) throws -> [UInt8]) throws -> Int {
        try writer.write { db in
            var count = 0
            for column in Self.encryptedColumns {
                let rows = try Row.fetchAll(db, sql: "SELECT rowid AS rid, \(column.column) AS value FROM \(column.table) WHERE \(column.column) IS NOT NULL AND length(\(column.column)) > 0")
                for row in rows {
                    let rowID: Int64 = row["rid"]
                    let value: DatabaseValue = row["value"]
                    let bytes: [UInt8]
                    if column.isText {
                        guard let text = String.fromDatabaseValue(value), let data = Data(base64Encoded: text) else {
                            throw ReencryptionError(table: column.table, column: column.column, rowID: rowID)
                        }
                        bytes = Array(data)
                    } else {
                        guard let data = Data.fromDatabaseValue(value) else {
                            throw ReencryptionError(table: column.table, column: column.column, rowID: rowID)
                        }
                        bytes = Array(data)
                    }
                    let rewritten = try transform(column, bytes)
                    let stored: any DatabaseValueConvertible = column.isText ? Data(rewritten).base64EncodedString() : Data(rewritten)
                    try db.execute(sql: "UPDATE \(column.table) SET \(column.column) = ? WHERE rowid = ?", arguments: [stored, rowID])
                    count += 1
                }
            }
            return count
        }
    }
}

/// A stored value that is not a ciphertext of ours (rotation stops, nothing changed).
public struct ReencryptionError: Error, CustomStringConvertible {
    public let table: String
    public let column: String
    public let rowID: Int64
    public var description: String { "\(table).\(column) row \(rowID) is not a readable ciphertext" }
}
