import BitTorrentCore
import BitTorrentProtocol
import Crypto
import NIOCore
import SwarmLogic

/// Metadata for a magnet-only source (BEP 9): find peers through the magnet's trackers (and
/// STATIC_TRACKERS), ask those that offer `ut_metadata` for the info dictionary in 16 KiB
/// pieces, and accept it only when its SHA-1 is the info-hash. Bounded: the announced size
/// is capped (`ExtendedHandshake.maximumMetadataSize`), each piece is checked against it,
/// and a peer that sends a wrong size or a bad piece is dropped. Loop-confined.
final class MetadataFetch: PeerSwarm, @unchecked Sendable {
    let sourceId: Int
    let infoHash: InfoHash
    let trackers: [[String]]
    unowned let engine: Engine
    let announcer: Announcer
    let promise: EventLoopPromise<Metainfo>
    var peers: [Int: PeerConnection] = [:]
    var book = PeerBook()
    var size: Int?
    var pieces: [Int: [UInt8]] = [:]
    /// Piece → (peer, time asked).
    var asked: [Int: (peer: Int, at: Double)] = [:]
    var done = false
    var tick: RepeatedTask?
    var nextDHTSearch: Double = 0

    init(sourceId: Int, magnet: Magnet, engine: Engine) {
        self.sourceId = sourceId
        infoHash = magnet.infoHash
        trackers = magnet.trackers.map { [$0] }
        self.engine = engine
        announcer = Announcer(trackers: trackers, engine: engine)
        promise = engine.loop.makePromise(of: Metainfo.self)
        for peer in magnet.peers { book.add(peer) }
    }

    static let utMetadataID: UInt8 = 1

    /// Magnets whose trackers are dead (or that have none) find peers through the DHT.
    func searchDHT() {
        guard let dht = engine.dht, engine.networkAllowed, !done else { return }
        // While no peer is known, ask again soon (a seeder may announce any second).
        nextDHTSearch = engine.now() + (peers.isEmpty ? 5 : 30)
        dht.findPeers(infoHash, announcePort: nil) { [self] found in
            for address in found { book.add(address) }
            connectMore()
        }
    }

    func start() {
        announce()
        searchDHT()
        tick = engine.loop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .seconds(1)) { [self] _ in
            let now = engine.now()
            for (piece, request) in asked where now - request.at > 5 { asked[piece] = nil }
            for peer in peers.values { requestPieces(from: peer) }
            if announcer.isDue(now: now) { announce() }
            if now >= nextDHTSearch { searchDHT() }
            connectMore()
        }
        connectMore()
    }

    func announce() {
        let request = AnnounceRequest(infoHash: infoHash, peerID: engine.peerID, port: UInt16(clamping: engine.listenPort),
                                      left: 1, event: .started, numWant: 80, key: 0x4d46)
        announcer.announce(request, fewPeers: true) { [self] found in
            for address in found { book.add(address) }
            connectMore()
        }
    }

    func connectMore() {
        guard !done, engine.hasConnectionRoom else { return }
        let own = "\(engine.localAddress):\(engine.listenPort)"
        for address in book.candidates(connected: Set(peers.values.map(\.address)), own: own,
                                       limit: max(0, 20 - peers.count - book.connecting.count), now: engine.now()) {
            engine.connect(address, for: self)
        }
    }

    func attach(_ peer: PeerConnection) -> Bool {
        guard !done, peer.supportsExtensions else { return false }
        peers[peer.id] = peer
        if peer.supportsFast { peer.send(.haveNone) }
        var extensions = ["ut_metadata": Self.utMetadataID]
        if engine.settings.pexEnabled { extensions["ut_pex"] = Torrent.utPexID }
        let handshake = ExtendedHandshake(extensions: extensions, client: "Miauflix 0.1",
                                          listenPort: UInt16(clamping: engine.listenPort))
        peer.send(.extended(id: 0, payload: handshake.encoded))
        return true
    }

    func detach(_ peer: PeerConnection) {
        peers[peer.id] = nil
        for (piece, request) in asked where request.peer == peer.id { asked[piece] = nil }
    }

    func connectFinished(_ address: String, succeeded: Bool) {
        book.dialFinished(address, succeeded: succeeded, now: engine.now())
    }

    func connectAbandoned(_ address: String) { book.dialAbandoned(address) }

    func received(_ message: PeerMessage, from peer: PeerConnection) {
        guard case let .extended(id, payload) = message, !done else { return }
        if id == 0 {
            guard let handshake = try? ExtendedHandshake.decode(payload) else { return peer.close(reason: "bad_extended_handshake") }
            peer.extensionIDs = handshake.extensions
            if let offered = handshake.metadataSize, handshake.extensions["ut_metadata"] != nil {
                if size == nil { size = offered }
                guard size == offered else { return peer.close(reason: "metadata_size_mismatch") }
                requestPieces(from: peer)
            }
        } else if id == Torrent.utPexID {
            guard engine.settings.pexEnabled, let message = try? PexMessage.decode(payload) else { return }
            let own = "\(engine.localAddress):\(engine.listenPort)"
            for address in PexDiff.accepted(message.added.map(\.description), own: own) { book.add(address) }
            connectMore()
        } else if id == Self.utMetadataID {
            guard let decoded = try? MetadataMessage.decode(payload) else { return peer.close(reason: "bad_metadata") }
            switch decoded {
            case let .data(index, total, bytes):
                guard let size, total == size, index < pieceCount(size),
                      bytes.count == min(MetadataMessage.pieceLength, size - index * MetadataMessage.pieceLength) else {
                    return peer.close(reason: "bad_metadata_piece")
                }
                asked[index] = nil
                pieces[index] = bytes
                if pieces.count == pieceCount(size) { assemble(size) } else { requestPieces(from: peer) }
            case let .reject(index):
                asked[index] = nil
            case .request:
                if let reply = peer.extensionIDs["ut_metadata"], case let .request(index) = decoded {
                    peer.send(.extended(id: reply, payload: MetadataMessage.reject(piece: index).encoded))
                }
            }
        }
    }

    func pieceCount(_ size: Int) -> Int { (size + MetadataMessage.pieceLength - 1) / MetadataMessage.pieceLength }

    func requestPieces(from peer: PeerConnection) {
        guard let size, let reply = peer.extensionIDs["ut_metadata"], !done else { return }
        var sent = 0
        for index in 0..<pieceCount(size) where pieces[index] == nil && asked[index] == nil && sent < 4 {
            asked[index] = (peer.id, engine.now())
            peer.send(.extended(id: reply, payload: MetadataMessage.request(piece: index).encoded))
            sent += 1
        }
    }

    func assemble(_ size: Int) {
        let info = (0..<pieceCount(size)).flatMap { pieces[$0]! }
        guard let hash = InfoHash(bytes: Digest.sha1(info)), hash == infoHash,
              var metainfo = try? Metainfo.parseInfo(info, sha1: Digest.sha1) else {
            // Someone lied: start over (the peers stay; a bad source keeps failing the hash).
            engine.logger.warning("metadata rejected", metadata: ["event": "metadata_rejected", "source": "\(sourceId)"])
            pieces.removeAll()
            return
        }
        metainfo.trackerTiers = trackers
        metainfo.announce = trackers.first?.first
        finish(.success(metainfo))
    }

    func finish(_ result: Result<Metainfo, any Error>) {
        guard !done else { return }
        done = true
        tick?.cancel()
        for peer in peers.values { peer.close(reason: "metadata_done") }
        promise.completeWith(result)
    }
}

extension Metainfo {
    /// The .torrent file of this metainfo: announce, announce-list and the info dictionary's
    /// original bytes (so its hash is the info-hash).
    public var torrentFile: [UInt8] {
        var out: [UInt8] = Array("d".utf8)
        func string(_ text: String) -> [UInt8] { Array("\(text.utf8.count):".utf8) + Array(text.utf8) }
        if let announce {
            out += string("announce") + string(announce)
        }
        if !trackerTiers.isEmpty {
            out += string("announce-list") + Array("l".utf8)
            for tier in trackerTiers { out += Array("l".utf8) + tier.flatMap(string) + Array("e".utf8) }
            out += Array("e".utf8)
        }
        out += string("info") + infoBytes + Array("e".utf8)
        return out
    }
}
