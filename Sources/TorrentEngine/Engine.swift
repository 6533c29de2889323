import BitTorrentCore
import BitTorrentProtocol
import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import SwarmLogic

/// Where verified pieces are remembered (fast resume). Called on the engine's thread pool.
public protocol TorrentProgressSink: Sendable {
    func saveProgress(sourceId: Int, verifiedPieces: [UInt8], size: Int64, downloaded: Int64, location: String)
}

/// The BitTorrent engine: torrents, the peer listener, outgoing connections and the shared
/// rate limits. Every torrent and connection lives on `loop` (one event loop: all state
/// changes are serial there); disk reads/writes and hashing run on `threadPool`, tracker
/// requests too (they block).
public final class Engine: @unchecked Sendable {
    public let loop: any EventLoop
    let threadPool: NIOThreadPool
    public let settings: EngineSettings
    let peerID: [UInt8]
    let tracker: any TrackerClient
    /// BEP 19 web seeds (nil: not used).
    let webSeedClient: (any WebSeedClient)?
    let progress: any TorrentProgressSink
    let logger: Logger
    let clock: @Sendable () -> Double

    private var swarmsByHash: [InfoHash: any PeerSwarm] = [:]
    private var fetches: [Int: MetadataFetch] = [:]
    private var torrentsBySource: [Int: Torrent] = [:]
    private var listener: (any Channel)?
    /// The kill switch (issue 11): false while the VPN is down — every peer is closed, none
    /// is admitted or dialled, trackers are not asked.
    public private(set) var networkAllowed = true
    /// The address peer sockets bind to (the VPN's, which can change while running).
    private(set) var localAddress: String
    private var interfaceIndex: Int32?
    /// The port peers reach us on (the bound one when configured as 0).
    public private(set) var listenPort: Int = 0
    private var connectionCount = 0
    /// Peers that refused encryption (dialled plain under `prefer`).
    private var plaintextPeers: Set<String> = []
    private var nextConnectionID = 0
    var uploadBucket: TokenBucket
    var downloadBucket: TokenBucket
    private var tickTask: RepeatedTask?
    /// The mainline DHT node (nil with DISABLE_DISCOVERY).
    private(set) var dht: DHTService?

    public init(loop: any EventLoop, threadPool: NIOThreadPool, settings: EngineSettings, tracker: any TrackerClient,
                progress: any TorrentProgressSink, logger: Logger, webSeedClient: (any WebSeedClient)? = nil,
                clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.webSeedClient = webSeedClient
        self.loop = loop
        self.threadPool = threadPool
        self.settings = settings
        self.tracker = tracker
        self.progress = progress
        self.logger = logger
        self.clock = clock
        var random = SystemRandomNumberGenerator()
        peerID = Array("-MF0100-".utf8) + (0..<12).map { _ in UInt8(ascii: "0") + UInt8.random(in: 0..<10, using: &random) }
        uploadBucket = TokenBucket(bytesPerSecond: settings.uploadLimit)
        downloadBucket = TokenBucket(bytesPerSecond: settings.downloadLimit)
        localAddress = settings.bindAddress
        interfaceIndex = settings.interfaceIndex
        networkAllowed = !settings.startsBlocked
        if settings.dhtEnabled { dht = DHTService(engine: self, statePath: settings.dhtStatePath, bootstrap: settings.dhtBootstrapNodes) }
    }

    /// `SO_BINDTOIFINDEX` (Linux 5.7+): binds a socket to an interface by index.
    static let bindToInterfaceIndex = NIOBSDSocket.Option(rawValue: 62)

    func now() -> Double { clock() }

    /// Binds the peer listener (a failure is logged: outgoing connections still work) and
    /// starts the once-a-second maintenance tick.
    public func start() async {
        if networkAllowed { try? await loop.flatSubmit { self.bindListener() }.get() }
        tickTask = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            let now = self.now()
            for torrent in torrentsBySource.values {
                if torrent.readers.isEmpty && now - torrent.lastActivity > settings.idleTimeout {
                    close(torrent, reason: "idle")
                } else {
                    torrent.tick(now: now)
                }
            }
        }
    }

    /// (Re)binds the peer listener on the current address and interface. A failure is
    /// logged: outgoing connections still work. On `loop`.
    func bindListener() -> EventLoopFuture<Void> {
        let old = listener
        listener = nil
        let closed = old.map { $0.close().recover { _ in } } ?? loop.makeSucceededVoidFuture()
        var bootstrap = ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let address = channel.remoteAddress.map(Self.describe) ?? "unknown:0"
                    guard self.admitConnection() else { throw ChannelError.ioOnClosedChannel }
                    let peer = PeerConnection(id: self.makeConnectionID(), address: address, outgoing: false, engine: self,
                                              torrent: nil, now: self.now())
                    if self.settings.peerEncryption != .disable {
                        try channel.pipeline.syncOperations.addHandler(MSEHandler(engine: self, incomingFrom: address, policy: self.settings.peerEncryption))
                    }
                    try channel.pipeline.syncOperations.addHandler(peer)
                }
            }
        if let index = interfaceIndex { bootstrap = bootstrap.serverChannelOption(.socketOption(Self.bindToInterfaceIndex), value: Int(index)) }
        let address = localAddress
        let port = listenPort != 0 ? listenPort : settings.listenPort
        let index = interfaceIndex
        return closed.flatMap { bootstrap.bind(host: address, port: port) }.map { [self] channel in
            listener = channel
            listenPort = channel.localAddress?.port ?? port
            logger.info("peer listener bound", metadata: ["event": "peer_listen", "address": "\(address)", "port": "\(listenPort)"])
        }.recover { [self] error in
            logger.error("peer listener failed", metadata: ["event": "peer_listen_failed", "port": "\(port)", "error": "\(error)"])
        }.flatMap { [self] in
            // The DHT shares the peer port number (UDP), as other clients do.
            dht?.bind(address: address, port: listenPort != 0 ? listenPort : port, interfaceIndex: index) ?? loop.makeSucceededVoidFuture()
        }
    }

    /// The kill switch. Not allowed: every peer connection (torrents and metadata fetches)
    /// is closed at once, none is admitted or dialled, trackers are skipped. Allowed again
    /// (maybe on a new address): the listener is bound anew and torrents reconnect on their
    /// next tick.
    public func setNetwork(allowed: Bool, address: String?, interfaceIndex: Int32?) -> EventLoopFuture<Void> {
        loop.flatSubmit { [self] in
            let wasAllowed = networkAllowed
            networkAllowed = allowed
            guard allowed else {
                for torrent in torrentsBySource.values { for peer in torrent.peers.values { peer.close(reason: "vpn-down") } }
                for fetch in fetches.values { for peer in fetch.peers.values { peer.close(reason: "vpn-down") } }
                let old = listener
                listener = nil
                let dhtClosed = dht?.close() ?? loop.makeSucceededVoidFuture()
                return (old?.close().recover { _ in } ?? loop.makeSucceededVoidFuture()).and(dhtClosed).map { _ in }
            }
            let moved = (address.map { $0 != localAddress } ?? false) || interfaceIndex != self.interfaceIndex
            if let address { localAddress = address }
            self.interfaceIndex = interfaceIndex
            guard !wasAllowed || moved || listener == nil else { return loop.makeSucceededVoidFuture() }
            return bindListener()
        }
    }

    /// Announces `stopped` (bounded) and closes every connection.
    public func stop() async {
        let torrents = try? await loop.submit { Array(self.torrentsBySource.values) }.get()
        tickTask?.cancel()
        try? await listener?.close()
        try? await loop.flatSubmit { self.dht?.stop() ?? self.loop.makeSucceededVoidFuture() }.get()
        for torrent in torrents ?? [] {
            try? await loop.flatSubmit { torrent.shutdown() }.get()
        }
    }

    // MARK: Torrents

    /// Opens (or returns) the torrent of a source. `resume` is the saved verified-pieces
    /// bitfield. Must be called on `loop`.
    func open(sourceId: Int, metainfo: Metainfo, resume: [UInt8]?, prefetchOnly: Bool = false) -> Torrent {
        loop.preconditionInEventLoop()
        if let existing = torrentsBySource[sourceId] { return existing }
        let files = FilePieceStore(metainfo: metainfo, root: settings.downloadPath)
        var store: any PieceStore = files
        if let encryption = settings.chunkEncryption {
            store = EncryptedPieceStore(inner: files, geometry: PieceGeometry(totalLength: metainfo.totalLength, pieceLength: metainfo.pieceLength)!,
                                        hashes: metainfo.pieceHashes,
                                        key: EncryptedPieceStore.torrentKey(master: encryption.master, salt: encryption.salt, infoHash: metainfo.infoHash))
        }
        let have = resume.flatMap { Bitfield(wire: $0, count: metainfo.pieceHashes.count) }
        let torrent = Torrent(sourceId: sourceId, metainfo: metainfo, store: store, location: files.folder, have: have, engine: self)
        torrent.prefetchOnly = prefetchOnly
        torrentsBySource[sourceId] = torrent
        swarmsByHash[metainfo.infoHash] = torrent
        logger.info("torrent opened", metadata: ["event": "torrent_open", "source": "\(sourceId)", "info_hash": "\(metainfo.infoHash.hex)",
                                                 "pieces": "\(metainfo.pieceHashes.count)", "resumed_pieces": "\(have?.setCount ?? 0)"])
        torrent.start()
        return torrent
    }

    /// Opens a magnet-only source: fetches its metadata from peers (BEP 9), hands the .torrent
    /// bytes to `store` (they go back to the database so the next start is instant), then
    /// opens the torrent. Fails after `timeout` seconds without metadata.
    public func openMagnet(sourceId: Int, magnet: Magnet, timeout: Double,
                           store: @escaping @Sendable ([UInt8]) -> Void) -> EventLoopFuture<Torrent> {
        loop.flatSubmit { [self] in
            if let existing = torrentsBySource[sourceId] { return loop.makeSucceededFuture(existing) }
            if let pending = fetches[sourceId] { return pending.promise.futureResult.map { self.open(sourceId: sourceId, metainfo: $0, resume: nil) } }
            let fetch = MetadataFetch(sourceId: sourceId, magnet: magnet, engine: self)
            fetches[sourceId] = fetch
            swarmsByHash[magnet.infoHash] = fetch
            fetch.start()
            let timer = loop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
                fetch.finish(.failure(MetadataError.timeout))
            }
            let started = now()
            return fetch.promise.futureResult.always { [self] result in
                timer.cancel()
                fetches[sourceId] = nil
                if swarmsByHash[magnet.infoHash] === fetch { swarmsByHash[magnet.infoHash] = nil }
                logger.info("metadata fetch", metadata: ["event": "metadata_fetch", "source": "\(sourceId)",
                                                         "ok": "\((try? result.get()) != nil)", "ms": "\(Int((now() - started) * 1000))"])
            }.flatMap { metainfo in
                let bytes = metainfo.torrentFile
                return self.threadPool.runIfActive(eventLoop: self.loop) { store(bytes) }.map {
                    let torrent = self.open(sourceId: sourceId, metainfo: metainfo, resume: nil)
                    // The peers the fetch found (DHT, PEX, trackers) are the torrent's first.
                    for address in fetch.book.known.keys { torrent.book.add(address) }
                    torrent.connectMore(now: self.now())
                    return torrent
                }
            }
        }
    }

    /// Metadata only (the .torrent job's last resort after the directory and the caches):
    /// fetches the info dictionary from peers (BEP 9) and returns the .torrent bytes without
    /// starting a download. Fails after `timeout` seconds.
    public func fetchMetadata(magnet: Magnet, timeout: Double) -> EventLoopFuture<[UInt8]> {
        loop.flatSubmit { [self] in
            guard swarmsByHash[magnet.infoHash] == nil else { return loop.makeFailedFuture(MetadataError.busy) }
            let fetch = MetadataFetch(sourceId: -1, magnet: magnet, engine: self)
            swarmsByHash[magnet.infoHash] = fetch
            fetch.start()
            let timer = loop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) { fetch.finish(.failure(MetadataError.timeout)) }
            return fetch.promise.futureResult.always { [self] _ in
                timer.cancel()
                if swarmsByHash[magnet.infoHash] === fetch { swarmsByHash[magnet.infoHash] = nil }
            }.map(\.torrentFile)
        }
    }

    /// Opens a torrent from any thread.
    public func openTorrent(sourceId: Int, metainfo: Metainfo, resume: [UInt8]?, prefetchOnly: Bool = false) -> EventLoopFuture<Torrent> {
        loop.submit { self.open(sourceId: sourceId, metainfo: metainfo, resume: resume, prefetchOnly: prefetchOnly) }
    }

    /// The open torrent of a source, if any (from any thread).
    public func openedTorrent(sourceId: Int) -> EventLoopFuture<Torrent?> {
        loop.submit { self.torrentsBySource[sourceId] }
    }

    /// The DHT node's state (nil with DISABLE_DISCOVERY), for metrics.
    public func discoverySnapshot() -> EventLoopFuture<DHTSnapshot?> {
        loop.submit { self.dht?.snapshot }
    }

    /// Snapshots of every open torrent (admin view).
    public func snapshots() -> EventLoopFuture<[TorrentSnapshot]> {
        loop.submit { self.torrentsBySource.values.map { $0.snapshot() }.sorted { $0.sourceId < $1.sourceId } }
    }

    func torrent(infoHash: InfoHash) -> (any PeerSwarm)? { swarmsByHash[infoHash] }

    /// Stops a torrent (idle policy, eviction): peers closed, `stopped` announced.
    @discardableResult
    func close(_ torrent: Torrent, reason: String) -> EventLoopFuture<Void> {
        torrentsBySource[torrent.sourceId] = nil
        if swarmsByHash[torrent.infoHash] === torrent { swarmsByHash[torrent.infoHash] = nil }
        logger.info("torrent closed", metadata: ["event": "torrent_close", "source": "\(torrent.sourceId)", "reason": "\(reason)",
                                                 "verified_pieces": "\(torrent.picker.have.setCount)"])
        return torrent.shutdown()
    }

    /// Sources whose torrent a stream is reading now (never evicted).
    public func sourcesInUse() -> EventLoopFuture<Set<Int>> {
        loop.submit { Set(self.torrentsBySource.values.filter { !$0.readers.isEmpty }.map(\.sourceId)) }
    }

    /// Stops a source's torrent (if open) and deletes its folder: quota eviction. Refused
    /// (false) while a stream reads it.
    public func evict(sourceId: Int, folder: String) -> EventLoopFuture<Bool> {
        loop.flatSubmit { [self] in
            if let torrent = torrentsBySource[sourceId] {
                guard torrent.readers.isEmpty else { return loop.makeSucceededFuture(false) }
                return close(torrent, reason: "evicted").flatMap { self.removeFolder(folder) }
            }
            return removeFolder(folder)
        }
    }

    private func removeFolder(_ folder: String) -> EventLoopFuture<Bool> {
        // Only folders under DOWNLOAD_PATH are ever deleted.
        let root = (settings.downloadPath as NSString).standardizingPath + "/"
        let path = (folder as NSString).standardizingPath
        guard path.hasPrefix(root), path.count > root.count else { return loop.makeSucceededFuture(false) }
        return threadPool.runIfActive(eventLoop: loop) {
            try? FileManager.default.removeItem(atPath: path)
            return true
        }
    }

    // MARK: Connections

    func makeConnectionID() -> Int {
        nextConnectionID += 1
        return nextConnectionID
    }

    /// Counts a new connection against CONTENT_CONNECTION_LIMIT.
    func admitConnection() -> Bool {
        guard networkAllowed, connectionCount < settings.connectionLimit else { return false }
        connectionCount += 1
        return true
    }

    func connectionClosed(_ peer: PeerConnection) {
        connectionCount = max(0, connectionCount - 1)
    }

    var hasConnectionRoom: Bool { connectionCount < settings.connectionLimit }

    /// Dials `address` (`host:port`) for `torrent`, bound to the configured address.
    func connect(_ address: String, for torrent: any PeerSwarm) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              admitConnection() else { return torrent.connectAbandoned(address) }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let peer = PeerConnection(id: makeConnectionID(), address: address, outgoing: true, engine: self, torrent: torrent, now: now())
        let encrypted = settings.peerEncryption == .require || (settings.peerEncryption == .prefer && !plaintextPeers.contains(address))
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    if encrypted {
                        try channel.pipeline.syncOperations.addHandler(MSEHandler(engine: self, address: address, initiatorFor: torrent,
                                                                                  policy: settings.peerEncryption))
                    }
                    try channel.pipeline.syncOperations.addHandler(peer)
                }
            }
        if localAddress != "0.0.0.0", let local = try? SocketAddress(ipAddress: localAddress, port: 0) {
            bootstrap = bootstrap.bind(to: local)
        }
        if let index = interfaceIndex { bootstrap = bootstrap.channelOption(.socketOption(Self.bindToInterfaceIndex), value: Int(index)) }
        bootstrap.connect(host: host, port: port).whenComplete { [self] result in
            torrent.connectFinished(address, succeeded: (try? result.get()) != nil)
            if case let .failure(error) = result {
                connectionCount = max(0, connectionCount - 1)
                logger.debug("peer connect failed", metadata: ["event": "peer_connect_failed", "peer": "\(address)", "error": "\(error)"])
            }
        }
    }

    /// A peer hung up on (or botched) our encrypted handshake: under `prefer` it is dialled
    /// plain from now on (bounded memory: the set is forgotten when it grows past 4 096).
    func encryptionRefused(by address: String) {
        guard settings.peerEncryption == .prefer else { return }
        if plaintextPeers.count >= 4096 { plaintextPeers.removeAll() }
        plaintextPeers.insert(address)
    }

    /// MSE/PE responder: the info-hash whose HASH('req2', info-hash) the initiator sent.
    func infoHash(forReq2 req2: [UInt8]) -> [UInt8]? {
        swarmsByHash.keys.first { Digest.sha1(Array("req2".utf8) + $0.bytes) == req2 }?.bytes
    }

    func logPeerClosed(_ peer: PeerConnection, reason: String) {
        logger.debug("peer closed", metadata: ["event": "peer_closed", "peer": "\(peer.address)", "reason": "\(reason)"])
    }

    static func describe(_ address: SocketAddress) -> String {
        "\(address.ipAddress ?? "unknown"):\(address.port ?? 0)"
    }
}

/// Metadata could not be fetched for a magnet.
public enum MetadataError: Error, Equatable, Sendable {
    case timeout
    /// The info-hash is already being fetched or downloaded.
    case busy
}
