import BitTorrentCore
import BitTorrentProtocol
import Crypto
import Foundation
import NIOCore
import SwarmLogic

/// One torrent's swarm state: which pieces we have, who has what, what is requested from
/// whom, who we upload to, and which stream reads wait for which piece. Confined to the
/// engine's event loop; pure decisions come from SwarmLogic (picker, planner, choker), disk
/// and hashing run on the engine's thread pool.
public final class Torrent: PeerSwarm, @unchecked Sendable {
    public let sourceId: Int
    public let metainfo: Metainfo
    let geometry: PieceGeometry
    let layout: FileLayout
    let store: any PieceStore
    let location: String
    unowned let engine: Engine
    var loop: any EventLoop { engine.loop }

    var picker: PiecePicker
    var planner: BlockPlanner
    var choker: Choker
    var peers: [Int: PeerConnection] = [:]
    var book = PeerBook()
    var strikes: [String: Int] = [:]
    /// Pieces being assembled in memory until their hash check (bounded by the planner).
    var buffers: [Int: [UInt8]] = [:]
    var contributors: [Int: Set<String>] = [:]
    var waiters: [Int: [EventLoopPromise<Void>]] = [:]
    var readers: [Int: PiecePicker.Window] = [:]
    var nextReaderID = 0
    var failure: StorageError?
    var stopped = false
    var throttleScheduled = false

    public internal(set) var downloadedBytes: Int64 = 0
    public internal(set) var uploadedBytes: Int64 = 0
    var hashFailures = 0
    var rateWindow: (at: Double, down: Int64, up: Int64) = (0, 0, 0)
    var rates: (down: Double, up: Double) = (0, 0)
    var chokeRound = 0

    let announcer: Announcer
    var announcedCompleted = false
    var nextDHTSearch: Double = 0
    var webSeeds = WebSeedState()

    /// Prefetch (a title page was opened): only the main file's first and last pieces are
    /// wanted until a stream or Watch Now asks for the whole file.
    var prefetchOnly = false
    /// When a stream last read (or the torrent opened): the idle policy's clock.
    var lastActivity: Double = 0
    var progressSaving = false
    var progressDirty = false

    init(sourceId: Int, metainfo: Metainfo, store: any PieceStore, location: String, have: Bitfield?, engine: Engine) {
        self.sourceId = sourceId
        self.metainfo = metainfo
        geometry = PieceGeometry(totalLength: metainfo.totalLength, pieceLength: metainfo.pieceLength)!
        layout = FileLayout(files: metainfo.files)
        self.store = store
        self.location = location
        self.engine = engine
        picker = PiecePicker(geometry: geometry, have: have)
        planner = BlockPlanner(geometry: geometry, pipelineDepth: engine.settings.pipelineDepth, timeout: engine.settings.requestTimeout)
        choker = Choker(slots: engine.settings.uploadSlots)
        announcer = Announcer(trackers: metainfo.trackerTiers, engine: engine)
    }

    public var infoHash: InfoHash { metainfo.infoHash }

    public var isComplete: Bool { picker.have.isComplete }

    /// Whether every piece is verified, read on the torrent's loop (safe from any thread).
    public func completion() -> EventLoopFuture<Bool> { loop.submit { self.picker.have.isComplete } }
    var now: Double { engine.now() }

    func start() {
        if prefetchOnly { picker.setPriority(.skip, for: geometry.allPieces) }
        // Players read the container header first and often the index at the end.
        if let main = layout.largestFile {
            let file = metainfo.files[main]
            picker.prioritizeEnds(ofBytes: file.offset, file.offset + file.length)
        }
        rateWindow = (now, 0, 0)
        lastActivity = now
        announce(.started)
        searchDHT()
    }

    /// Closes every connection and announces `stopped` (bounded by the tracker timeouts).
    func shutdown() -> EventLoopFuture<Void> {
        stopped = true
        for peer in peers.values { peer.close(reason: "shutdown") }
        for promise in waiters.values.joined() { promise.fail(StreamReadError.stopped) }
        waiters.removeAll()
        return announcer.stop(announceRequest(.stopped))
    }

    /// Prefetches the first and last pieces of one file (the next episode inside a season
    /// pack): in prefetch mode nothing else of the file is fetched until someone reads it.
    public func prefetchEnds(fileIndex: Int) {
        loop.execute { [self] in
            guard metainfo.files.indices.contains(fileIndex) else { return }
            let file = metainfo.files[fileIndex]
            picker.prioritizeEnds(ofBytes: file.offset, file.offset + file.length)
            for peer in peers.values { updateInterest(peer) }
            fillAll()
        }
    }

    /// Leaves prefetch mode: every piece is wanted (the ends keep their top priority).
    public func downloadEverything() {
        loop.execute { [self] in
            guard prefetchOnly else { return }
            prefetchOnly = false
            let skipped = geometry.allPieces.filter { picker.priority(of: $0) == .skip }
            picker.setPriority(.normal, for: skipped)
            for peer in peers.values { updateInterest(peer) }
            fillAll()
        }
    }

    // MARK: Peers

    /// A peer finished its handshake for this torrent. False refuses it.
    func attach(_ peer: PeerConnection) -> Bool {
        guard !stopped, !book.isBanned(peer.address) else { return false }
        peers[peer.id] = peer
        peer.has = Bitfield(count: geometry.pieceCount)
        if picker.have.setCount == 0 {
            if peer.supportsFast { peer.send(.haveNone) }
        } else if picker.have.isComplete && peer.supportsFast {
            peer.send(.haveAll)
        } else {
            peer.send(.bitfield(picker.have.bytes))
        }
        if peer.supportsDHT, engine.dht != nil, engine.listenPort > 0 { peer.send(.port(UInt16(clamping: engine.listenPort))) }
        if peer.supportsExtensions {
            var extensions = ["ut_metadata": Self.utMetadataID]
            if engine.settings.pexEnabled { extensions["ut_pex"] = Self.utPexID }
            let handshake = ExtendedHandshake(extensions: extensions, metadataSize: metainfo.infoBytes.count,
                                              client: "Miauflix 0.1", listenPort: UInt16(clamping: engine.listenPort), requestQueue: 500)
            peer.send(.extended(id: 0, payload: handshake.encoded))
        }
        return true
    }

    static let utMetadataID: UInt8 = 1
    static let utPexID: UInt8 = 2

    func detach(_ peer: PeerConnection) {
        guard peers.removeValue(forKey: peer.id) != nil else { return }
        picker.peerLeft(peer.has)
        planner.peerGone(peer.id)
        fillAll()
    }

    func connectFinished(_ address: String, succeeded: Bool) {
        book.dialFinished(address, succeeded: succeeded, now: now)
    }

    func connectAbandoned(_ address: String) { book.dialAbandoned(address) }

    func received(_ message: PeerMessage, from peer: PeerConnection) {
        switch message {
        case .keepAlive, .suggest, .allowedFast:
            break
        case let .port(port):
            // BEP 5: the peer's DHT node; a ping puts it in our routing table if it answers.
            engine.dht?.contact(host: peer.host, port: port)
        case .choke:
            peer.peerChoking = true
            planner.peerGone(peer.id)
            fillAll()
        case .unchoke:
            peer.peerChoking = false
            fill(peer)
        case .interested:
            peer.peerInterested = true
            if peer.amChoking && peers.values.filter({ !$0.amChoking }).count < engine.settings.uploadSlots {
                setChoked(peer, false)
            }
        case .notInterested:
            peer.peerInterested = false
        case let .have(index):
            guard let piece = geometry.piece(Int(index)) else { return peer.close(reason: "bad_have") }
            if !peer.has[piece.value] {
                peer.has[piece.value] = true
                picker.peerHas(piece)
            }
            updateInterest(peer)
            fill(peer)
        case let .bitfield(bytes):
            guard let bits = Bitfield(wire: bytes, count: geometry.pieceCount) else { return peer.close(reason: "bad_bitfield") }
            picker.peerLeft(peer.has)
            peer.has = bits
            picker.peerBitfield(bits)
            updateInterest(peer)
        case .haveAll:
            picker.peerLeft(peer.has)
            peer.has = Bitfield(count: geometry.pieceCount, all: true)
            picker.peerBitfield(peer.has)
            updateInterest(peer)
        case .haveNone:
            break
        case let .request(index, begin, length):
            upload(request: (Int(index), Int(begin), Int(length)), from: peer)
        case let .piece(index, begin, block):
            receivedBlock(piece: Int(index), begin: Int(begin), bytes: block, from: peer)
        case let .cancel(index, begin, length):
            peer.uploadQueue.removeAll { $0.piece.value == Int(index) && $0.begin == Int(begin) && $0.length == Int(length) }
        case .reject:
            // The request stays planned until it times out; a rejecting peer is usually choking.
            break
        case let .extended(id, payload):
            extended(id: id, payload: payload, from: peer)
        }
    }

    func extended(id: UInt8, payload: [UInt8], from peer: PeerConnection) {
        if id == 0 {
            guard let handshake = try? ExtendedHandshake.decode(payload) else { return peer.close(reason: "bad_extended_handshake") }
            peer.extensionIDs = handshake.extensions
            if let reqq = handshake.requestQueue { peer.requestQueueLimit = reqq }
            // Incoming peers' source ports are not their listen ports; BEP 10 says which is.
            if !peer.outgoing, let port = handshake.listenPort {
                peer.listenAddress = "\(peer.host):\(port)"
                book.add("\(peer.host):\(port)")
            }
        } else if id == Self.utPexID {
            // BEP 11: peers the swarm knows that our trackers may not.
            guard engine.settings.pexEnabled, let message = try? PexMessage.decode(payload) else { return }
            let own = "\(engine.localAddress):\(engine.listenPort)"
            let added = PexDiff.accepted(message.added.map(\.description), own: own).filter { book.add($0) }.count
            if added > 0 {
                engine.logger.debug("pex received", metadata: ["event": "pex_received", "source": "\(sourceId)", "new_peers": "\(added)"])
                connectMore(now: now)
            }
        } else if id == Self.utMetadataID {
            // BEP 9: serve our metadata to peers that ask (magnet leechers).
            guard let reply = peer.extensionIDs["ut_metadata"], case let .request(index)? = try? MetadataMessage.decode(payload) else { return }
            let size = metainfo.infoBytes.count
            let start = index * MetadataMessage.pieceLength
            if start < size {
                let chunk = Array(metainfo.infoBytes[start..<min(size, start + MetadataMessage.pieceLength)])
                peer.send(.extended(id: reply, payload: MetadataMessage.data(piece: index, totalSize: size, bytes: chunk).encoded))
            } else {
                peer.send(.extended(id: reply, payload: MetadataMessage.reject(piece: index).encoded))
            }
        }
    }

    func updateInterest(_ peer: PeerConnection) {
        let wanted = failure == nil && picker.wantsAny(of: peer.has)
        if wanted != peer.amInterested {
            peer.amInterested = wanted
            peer.send(wanted ? .interested : .notInterested)
        }
    }

    func setChoked(_ peer: PeerConnection, _ choked: Bool) {
        guard peer.amChoking != choked else { return }
        peer.amChoking = choked
        peer.send(choked ? .choke : .unchoke)
        if choked {
            if peer.supportsFast {
                for request in peer.uploadQueue {
                    peer.send(.reject(piece: UInt32(request.piece.value), begin: UInt32(request.begin), length: UInt32(request.length)))
                }
            }
            peer.uploadQueue.removeAll()
        }
    }

    // MARK: Downloading

    func fillAll() {
        for peer in peers.values { fill(peer) }
    }

    /// Tops up a peer's request pipeline: blocks of pieces already under way first, then a
    /// new piece from the picker (deadlines → priority → rarest), endgame duplicates last.
    func fill(_ peer: PeerConnection) {
        guard !peer.peerChoking, !peer.closed, failure == nil, !stopped, !picker.have.isComplete else { return }
        guard engine.downloadBucket.allows(PieceGeometry.blockLength, now: now) else { return scheduleThrottledFill() }
        let time = now
        let depth = pipelineDepth(for: peer)
        planner.pipelineDepth = depth
        var actions = planner.fill(peer: peer.id, peerHas: peer.has, now: time)
        var rounds = 0
        while planner.outstandingCount(peer: peer.id) < depth, rounds < 32, let piece = picker.pick(from: peer.has) {
            picker.started(piece)
            planner.begin(piece)
            engine.logger.trace("piece started", metadata: ["event": "piece_started", "source": "\(sourceId)", "piece": "\(piece.value)",
                                                            "peer": "\(peer.id)", "deadline": "\(picker.deadline(of: piece) != nil)"])
            if picker.deadline(of: piece) != nil { planner.prioritize(picker.piecesByDeadline) }
            actions += planner.fill(peer: peer.id, peerHas: peer.has, now: time)
            rounds += 1
        }
        if planner.outstandingCount(peer: peer.id) < depth && picker.inEndgame {
            actions += planner.fill(peer: peer.id, peerHas: peer.has, now: time, endgame: true)
        }
        perform(actions)
    }

    /// Requests in flight to a peer: about 1.5 s of its measured rate (a deeper queue would
    /// make a seek wait behind blocks nobody needs now — seeks also cancel stale requests),
    /// at least 32 blocks (512 KiB: enough for ~40 Mbit/s at 80 ms before the first rate
    /// sample), at most the configured depth and the peer's own `reqq`.
    func pipelineDepth(for peer: PeerConnection) -> Int {
        let byRate = peer.downloadRate == 0 ? peer.slowStartDepth : Int(peer.downloadRate * 1.5 / Double(PieceGeometry.blockLength)) + 4
        return max(1, min(engine.settings.pipelineDepth, peer.requestQueueLimit, max(32, byRate)))
    }

    func perform(_ actions: [BlockPlanner.Action]) {
        for action in actions {
            switch action {
            case let .request(id, block):
                _ = engine.downloadBucket.take(block.length, now: now)
                peers[id]?.send(.request(piece: UInt32(block.piece.value), begin: UInt32(block.begin), length: UInt32(block.length)))
            case let .cancel(id, block):
                peers[id]?.send(.cancel(piece: UInt32(block.piece.value), begin: UInt32(block.begin), length: UInt32(block.length)))
            case let .slowPeer(id):
                peers[id]?.slowStrikes += 1
            }
        }
    }

    func scheduleThrottledFill() {
        guard !throttleScheduled else { return }
        throttleScheduled = true
        loop.scheduleTask(in: .milliseconds(20)) { [self] in
            throttleScheduled = false
            fillAll()
        }
    }

    func receivedBlock(piece index: Int, begin: Int, bytes: [UInt8], from peer: PeerConnection) {
        guard let block = geometry.block(piece: index, begin: begin, length: bytes.count) else {
            return peer.close(reason: "bad_block")
        }
        peer.downloadedTotal += Int64(bytes.count)
        peer.downloadedThisRound += Int64(bytes.count)
        if peer.downloadRate == 0 { peer.slowStartDepth = min(engine.settings.pipelineDepth, peer.slowStartDepth + 1) }
        guard planner.wants(block) else { return fill(peer) }
        let (actions, complete) = planner.received(block, from: peer.id)
        downloadedBytes += Int64(bytes.count)
        let length = geometry.length(of: block.piece)
        var buffer = buffers.removeValue(forKey: index) ?? [UInt8](repeating: 0, count: length)
        buffer.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                target.baseAddress!.advanced(by: begin).update(from: source.baseAddress!, count: source.count)
            }
        }
        contributors[index, default: []].insert(peer.host)
        perform(actions)
        if complete {
            verifyAndStore(block.piece, buffer)
        } else {
            buffers[index] = buffer
        }
        fill(peer)
    }

    /// Hashes the assembled piece and writes it on the thread pool; only then does it count.
    func verifyAndStore(_ piece: PieceIndex, _ bytes: [UInt8]) {
        let expected = metainfo.pieceHashes[piece.value]
        let store = store
        engine.threadPool.runIfActive(eventLoop: loop) { () throws(StorageError) -> Bool in
            guard Digest.sha1(bytes) == expected else { return false }
            try store.write(piece: piece, begin: 0, bytes: bytes)
            return true
        }.whenComplete { [self] result in
            let from = contributors.removeValue(forKey: piece.value) ?? []
            switch result {
            case .success(true):
                pieceVerified(piece)
            case .success(false):
                hashFailed(piece, from: from)
            case let .failure(error):
                storageFailed(error as? StorageError ?? .io(errno: 0), piece: piece)
            }
        }
    }

    func pieceVerified(_ piece: PieceIndex) {
        guard !picker.have[piece.value] else { return }
        engine.logger.debug("piece verified", metadata: ["event": "piece_verified", "source": "\(sourceId)", "piece": "\(piece.value)",
                                                         "waiters": "\(waiters[piece.value]?.count ?? 0)"])
        picker.completed(piece)
        perform(planner.drop(piece))
        for peer in peers.values {
            if !peer.has[piece.value] { peer.send(.have(piece: UInt32(piece.value))) }
            updateInterest(peer)
        }
        for promise in waiters.removeValue(forKey: piece.value) ?? [] { promise.succeed(()) }
        saveProgress()
        if picker.have.isComplete {
            engine.logger.info("torrent complete", metadata: ["event": "torrent_complete", "source": "\(sourceId)",
                                                              "downloaded": "\(downloadedBytes)", "hash_failures": "\(hashFailures)"])
            if !announcedCompleted {
                announcedCompleted = true
                announce(.completed)
            }
        }
        fillAll()
    }

    /// A piece failed its hash check: its blocks are wanted again; a peer that alone sent a
    /// bad piece (or took part in two) is banned and disconnected.
    func hashFailed(_ piece: PieceIndex, from hosts: Set<String>) {
        hashFailures += 1
        planner.failed(piece)
        picker.abandoned(piece)
        for host in hosts {
            strikes[host, default: 0] += hosts.count == 1 ? 2 : 1
            if strikes[host, default: 0] >= 2 && !book.banned.contains(host) {
                book.ban(host: host)
                engine.logger.warning("peer banned", metadata: ["event": "peer_banned", "source": "\(sourceId)", "peer": "\(host)",
                                                                 "reason": "hash_failure", "piece": "\(piece.value)"])
                for peer in peers.values where peer.host == host { peer.close(reason: "banned") }
            }
        }
        fillAll()
    }

    func storageFailed(_ error: StorageError, piece: PieceIndex) {
        guard failure == nil else { return }
        failure = error
        planner.failed(piece)
        picker.abandoned(piece)
        engine.logger.error("torrent storage failed", metadata: ["event": "torrent_storage_failed", "source": "\(sourceId)", "error": "\(error)"])
        for promise in waiters.values.joined() { promise.fail(StreamReadError.storage(error)) }
        waiters.removeAll()
        for peer in peers.values { updateInterest(peer) }
    }

    func saveProgress() {
        guard !progressSaving else { progressDirty = true; return }
        progressSaving = true
        progressDirty = false
        let bits = picker.have.bytes
        let downloaded = Int64(picker.have.setCount) * Int64(geometry.pieceLength)
        let (sink, id, size, location) = (engine.progress, sourceId, metainfo.totalLength, location)
        engine.threadPool.runIfActive(eventLoop: loop) {
            sink.saveProgress(sourceId: id, verifiedPieces: bits, size: size, downloaded: min(size, downloaded), location: location)
        }.whenComplete { [self] _ in
            progressSaving = false
            if progressDirty { saveProgress() }
        }
    }

    // MARK: Maintenance (once a second)

    func tick(now: Double) {
        guard !stopped else { return }
        perform(planner.expire(now: now))
        if now - rateWindow.at >= 5 {
            let span = now - rateWindow.at
            rates = (Double(downloadedBytes - rateWindow.down) / span, Double(uploadedBytes - rateWindow.up) / span)
            rateWindow = (now, downloadedBytes, uploadedBytes)
        }
        for peer in peers.values {
            let delta = Double(peer.downloadedTotal - peer.rateSampleTotal)
            peer.rateSampleTotal = peer.downloadedTotal
            peer.downloadRate = peer.downloadRate == 0 ? delta : 0.6 * peer.downloadRate + 0.4 * delta
        }
        chokeRound += 1
        if chokeRound % 10 == 0 { rechoke() }
        for peer in peers.values {
            if now - peer.lastReceived > 180 { peer.close(reason: "idle") }
            else if now - peer.lastSent > 90 { peer.send(.keepAlive) }
        }
        if announcer.isDue(now: now) { announce(.none) }
        if now >= nextDHTSearch { searchDHT() }
        if engine.settings.pexEnabled { exchangePeers(now: now) }
        useWebSeeds(now: now)
        connectMore(now: now)
        fillAll()
    }

    /// Tit-for-tat: the best recent uploaders to us (or downloaders from us while seeding)
    /// keep their slots, one optimistic unchoke rotates.
    func rechoke() {
        let seeding = picker.have.isComplete
        let candidates = peers.values.map {
            Choker.Peer(id: $0.id, interested: $0.peerInterested, rate: Double(seeding ? $0.uploadedThisRound : $0.downloadedThisRound))
        }
        var random = SystemRandomNumberGenerator()
        let unchoked = choker.round(candidates) { Int.random(in: 0..<$0, using: &random) }
        for peer in peers.values {
            setChoked(peer, !unchoked.contains(peer.id))
            peer.downloadedThisRound = 0
            peer.uploadedThisRound = 0
        }
    }

    func connectMore(now: Double) {
        guard engine.networkAllowed, !picker.have.isComplete, failure == nil, engine.hasConnectionRoom else { return }
        let own = "\(engine.localAddress):\(engine.listenPort)"
        let budget = max(0, 30 - peers.count - book.connecting.count)
        for address in book.candidates(connected: Set(peers.values.map(\.address)), own: own, limit: budget, now: now) {
            engine.connect(address, for: self)
        }
    }
}
