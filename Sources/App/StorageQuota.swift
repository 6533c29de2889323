import Foundation
import Logging
import Persistence
import TorrentEngine

/// STORAGE_THRESHOLD: when the downloads take more than the threshold, the least recently
/// watched torrents that no stream is reading are stopped and their files deleted, until
/// the total is back under 90% of the threshold.
struct StorageQuota: Sendable {
    let database: AppDatabase
    let engine: Engine
    let threshold: Int64
    let logger: Logger

    /// One pass (scheduler job; blocking waits are fine off the event loop).
    func enforce() async throws {
        guard threshold > 0 else { return }
        let rows = try database.storageLeastRecentlyWatched(before: .distantFuture)
        var total = rows.reduce(Int64(0)) { $0 + $1.downloaded }
        guard total > threshold else { return }
        let busy = try await engine.sourcesInUse().get()
        let target = threshold / 10 * 9
        for row in rows where total > target && !busy.contains(row.sourceId) {
            guard try await engine.evict(sourceId: row.sourceId, folder: row.location).get() else { continue }
            try database.deleteStorage(sourceId: row.sourceId)
            total -= row.downloaded
            logger.info("download evicted", metadata: ["event": "storage_evicted", "source": "\(row.sourceId)",
                                                        "bytes": "\(row.downloaded)", "total": "\(total)", "threshold": "\(threshold)"])
        }
    }
}
