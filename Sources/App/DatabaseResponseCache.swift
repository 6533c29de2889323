import Catalog
import Foundation
import Persistence

/// The response cache in the shared database, so a title fetched by one worker (or before a
/// restart) is not fetched again by another within its TTL.
struct DatabaseResponseCache: ResponseCache {
    let database: AppDatabase

    func get(_ key: String) -> [UInt8]? { try? database.cachedResponse(key: key, now: Date()) }

    func put(_ key: String, _ value: [UInt8], ttl: TimeInterval) {
        try? database.storeResponse(key: key, value: value, expiresAt: Date().addingTimeInterval(ttl))
    }
}
