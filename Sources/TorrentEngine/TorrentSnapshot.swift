import BitTorrentCore
import BitTorrentProtocol
import NIOCore
import SwarmLogic

extension Torrent {
    // MARK: Snapshot

    func snapshot() -> TorrentSnapshot {
        TorrentSnapshot(sourceId: sourceId, infoHash: metainfo.infoHash.hex, name: metainfo.name, size: metainfo.totalLength,
                        pieces: geometry.pieceCount, verifiedPieces: picker.have.setCount,
                        progress: geometry.pieceCount == 0 ? 1 : Double(picker.have.setCount) / Double(geometry.pieceCount),
                        downloadRate: rates.down, uploadRate: rates.up, downloaded: downloadedBytes, uploaded: uploadedBytes,
                        peers: peers.count, streams: readers.count, hashFailures: hashFailures, bannedPeers: book.banned.count,
                        error: failure.map { "\($0)" }, trackerError: announcer.lastError, webSeedDownloaded: webSeeds.fetchedBytes)
    }
}

/// What the admin view shows of a torrent.
public struct TorrentSnapshot: Sendable, Codable, Equatable {
    public var sourceId: Int
    public var infoHash: String
    public var name: String
    public var size: Int64
    public var pieces: Int
    public var verifiedPieces: Int
    public var progress: Double
    public var downloadRate: Double
    public var uploadRate: Double
    public var downloaded: Int64
    public var uploaded: Int64
    public var peers: Int
    public var streams: Int
    public var hashFailures: Int
    public var bannedPeers: Int
    public var error: String?
    public var trackerError: String?
    /// Bytes of verified pieces that came from web seeds (BEP 19).
    public var webSeedDownloaded: Int64 = 0
}
