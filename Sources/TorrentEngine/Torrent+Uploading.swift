import BitTorrentCore
import BitTorrentProtocol
import NIOCore
import SwarmLogic

/// Serving blocks to peers we unchoked, paced by CONTENT_UPLOAD_LIMIT.
extension Torrent {
    // MARK: Uploading

    func upload(request: (piece: Int, begin: Int, length: Int), from peer: PeerConnection) {
        guard let piece = geometry.piece(request.piece), request.begin >= 0, request.length > 0, request.length <= 128 * 1024,
              request.begin + request.length <= geometry.length(of: piece) else { return peer.close(reason: "bad_request") }
        guard !peer.amChoking, picker.have[piece.value], peer.uploadQueue.count < 512 else {
            if peer.supportsFast { peer.send(.reject(piece: UInt32(request.piece), begin: UInt32(request.begin), length: UInt32(request.length))) }
            return
        }
        peer.uploadQueue.append((piece, request.begin, request.length))
        serveUploads(peer)
    }

    /// Serves a peer's queued requests one disk read at a time, paced by CONTENT_UPLOAD_LIMIT.
    func serveUploads(_ peer: PeerConnection) {
        guard !peer.uploading, !peer.closed, let next = peer.uploadQueue.first else { return }
        peer.uploading = true
        let delay = engine.uploadBucket.take(next.length, now: now)
        let store = store
        let read = { @Sendable [self] () -> EventLoopFuture<[UInt8]> in
            engine.threadPool.runIfActive(eventLoop: loop) { () throws(StorageError) -> [UInt8] in
                try store.read(piece: next.piece, begin: next.begin, length: next.length)
            }
        }
        let future = delay > 0 ? loop.scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) {}.futureResult.flatMap(read) : read()
        future.whenComplete { [self] result in
            peer.uploading = false
            guard case let .success(bytes) = result, !peer.closed, !peer.amChoking,
                  let position = peer.uploadQueue.firstIndex(where: { $0.piece == next.piece && $0.begin == next.begin && $0.length == next.length })
            else { return serveUploads(peer) }
            peer.uploadQueue.remove(at: position)
            peer.send(.piece(piece: UInt32(next.piece.value), begin: UInt32(next.begin), block: bytes))
            uploadedBytes += Int64(bytes.count)
            peer.uploadedThisRound += Int64(bytes.count)
            serveUploads(peer)
        }
    }
}
