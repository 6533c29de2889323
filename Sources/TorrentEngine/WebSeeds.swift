import BitTorrentCore
import Crypto
import NIOCore

/// Fetches byte ranges of a web seed (BEP 19) over HTTP. The real one (App) is libcurl bound
/// to the VPN interface like tracker requests; it throws on anything but the exact bytes.
/// Called on the engine's thread pool (it blocks).
public protocol WebSeedClient: Sendable {
    func fetch(url: String, offset: Int64, length: Int) throws -> [UInt8]
}

/// A torrent's web seeds: used when peers are scarce (fewer than two are sending to us),
/// whole pieces at a time, at most two in flight; each piece is hash-checked like a peer's.
/// A seed that fails or sends a bad piece rests (30 s, doubling to 10 min). Loop-confined.
struct WebSeedState {
    var inFlight = 0
    var restingUntil: [String: Double] = [:]
    var failures: [String: Int] = [:]
    var fetchedBytes: Int64 = 0
    static let maxInFlight = 2

    func available(_ seeds: [String], now: Double) -> String? {
        seeds.first { WebSeedPlan.isUsable($0) && (restingUntil[$0] ?? 0) <= now }
    }

    mutating func failed(_ seed: String, now: Double) {
        let count = (failures[seed] ?? 0) + 1
        failures[seed] = count
        restingUntil[seed] = now + min(600, 30 * Double(1 << min(count - 1, 5)))
    }

    mutating func succeeded(_ seed: String) { failures[seed] = nil }
}

extension Torrent {
    /// Once a second: when fewer than two peers are sending to us, fetch pieces (deadline
    /// and priority order, as for peers) from a web seed.
    func useWebSeeds(now: Double) {
        guard let client = engine.webSeedClient, !metainfo.webSeeds.isEmpty, engine.networkAllowed, failure == nil, !stopped,
              !picker.have.isComplete else { return }
        let sending = peers.values.filter { !$0.peerChoking && $0.downloadRate > 0 }.count
        guard sending < 2 else { return }
        while webSeeds.inFlight < WebSeedState.maxInFlight, let seed = webSeeds.available(metainfo.webSeeds, now: now),
              let piece = picker.pick(from: Bitfield(count: geometry.pieceCount, all: true)) {
            picker.started(piece)
            webSeeds.inFlight += 1
            let requests = WebSeedPlan.requests(piece: piece, geometry: geometry, metainfo: metainfo, base: seed)
            let expected = metainfo.pieceHashes[piece.value]
            let store = store
            engine.threadPool.runIfActive(eventLoop: loop) { () throws -> Bool in
                var bytes: [UInt8] = []
                for request in requests { bytes += try client.fetch(url: request.url, offset: request.offset, length: request.length) }
                guard Digest.sha1(bytes) == expected else { return false }
                try store.write(piece: piece, begin: 0, bytes: bytes)
                return true
            }.whenComplete { [self] result in
                webSeeds.inFlight -= 1
                let at = self.now
                switch result {
                case .success(true):
                    webSeeds.succeeded(seed)
                    let length = Int64(geometry.length(of: piece))
                    webSeeds.fetchedBytes += length
                    downloadedBytes += length
                    pieceVerified(piece)
                case .success(false):
                    hashFailures += 1
                    picker.abandoned(piece)
                    webSeeds.failed(seed, now: at)
                    engine.logger.warning("web seed sent a bad piece", metadata: ["event": "webseed_bad_piece", "source": "\(sourceId)",
                                                                                  "piece": "\(piece.value)"])
                case let .failure(error):
                    picker.abandoned(piece)
                    if let storage = error as? StorageError { return storageFailed(storage, piece: piece) }
                    webSeeds.failed(seed, now: at)
                    engine.logger.info("web seed failed", metadata: ["event": "webseed_failed", "source": "\(sourceId)", "error": "\(error)"])
                }
                if !stopped { useWebSeeds(now: at) }
            }
        }
    }
}
