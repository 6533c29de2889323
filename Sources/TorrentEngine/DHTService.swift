import Bencode
import BitTorrentCore
import BitTorrentProtocol
import Crypto
import Foundation
import NIOCore
import NIOPosix
import SwarmLogic

/// The engine's mainline DHT node (BEP 5) on UDP, on the peer port and the peer address
/// (so it goes through the VPN like every other torrent packet). Answers other nodes'
/// queries (rate limited per IP), keeps a routing table (persisted across restarts), runs
/// iterative `get_peers` lookups for torrents and magnets and announces us where they end.
/// Decisions come from SwarmLogic (table, lookups, tokens, peer store); this class only
/// moves datagrams. Confined to the engine's loop.
final class DHTService: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    struct Pending {
        var address: CompactPeer
        var sentAt: Double
        var lookup: Int?
        var bootstrap: Bool
    }

    /// A running lookup with what to do with its results.
    final class Run {
        var lookup: DHTLookup
        var announcePort: UInt16?
        /// Everyone waiting for this target's peers (a magnet's fetch, then its torrent).
        var listeners: [([String]) -> Void]
        let started: Double
        var announced = false
        init(lookup: DHTLookup, announcePort: UInt16?, started: Double, onPeers: @escaping ([String]) -> Void) {
            self.lookup = lookup
            self.announcePort = announcePort
            self.started = started
            listeners = [onPeers]
        }

        func deliver(_ peers: [String]) { for listener in listeners { listener(peers) } }
    }

    unowned let engine: Engine
    let statePath: String?
    let bootstrapEndpoints: [String]
    private(set) var table: DHTRoutingTable
    private var store = DHTPeerStore()
    private var tokens: DHTTokens
    private var limiter = DHTQueryLimiter()
    private var channel: (any Channel)?
    private var pending: [UInt16: Pending] = [:]
    private var nextTransaction = UInt16.random(in: 0...UInt16.max)
    private var runs: [Int: Run] = [:]
    private var nextRun = 0
    private var lastBootstrap: Double = -1_000
    private var lastSave: Double = 0
    private var lastRefresh: Double = 0
    private var bootstrapAddresses: [CompactPeer] = []
    private var tick: RepeatedTask?
    /// Counters for logs and tests.
    private(set) var queriesAnswered = 0
    private(set) var datagramsDropped = 0

    static let queryTimeout = 3.0
    static let maxPending = 512

    init(engine: Engine, statePath: String?, bootstrap: [String]) {
        self.engine = engine
        self.statePath = statePath
        bootstrapEndpoints = bootstrap
        let now = engine.now()
        let saved = statePath.flatMap { Self.load(path: $0) }
        table = DHTRoutingTable(ownID: saved?.id ?? SecureRandom.bytes(20), now: now)
        tokens = DHTTokens(secret: SecureRandom.bytes(16), now: now, hash: { Digest.sha1($0) })
        for node in saved?.nodes ?? [] { table.heard(node, responded: false, now: now) }
    }

    var ownID: [UInt8] { table.ownID }

    // MARK: Socket

    /// Binds the UDP socket on `address:port` (bound to the interface like the peer sockets).
    func bind(address: String, port: Int, interfaceIndex: Int32?) -> EventLoopFuture<Void> {
        let old = channel
        channel = nil
        let closed = old.map { $0.close().recover { _ in } } ?? engine.loop.makeSucceededVoidFuture()
        var bootstrap = DatagramBootstrap(group: engine.loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(self) } }
        if let interfaceIndex { bootstrap = bootstrap.channelOption(.socketOption(Engine.bindToInterfaceIndex), value: Int(interfaceIndex)) }
        return closed.flatMap { bootstrap.bind(host: address, port: port) }.map { [self] channel in
            self.channel = channel
            engine.logger.info("dht bound", metadata: ["event": "dht_listen", "address": "\(address)", "port": "\(channel.localAddress?.port ?? port)",
                                                       "nodes": "\(table.count)"])
            startTicking()
            bootstrapIfNeeded(now: engine.now(), force: true)
        }.recover { [self] error in
            engine.logger.error("dht bind failed", metadata: ["event": "dht_listen_failed", "port": "\(port)", "error": "\(error)"])
        }
    }

    func close() -> EventLoopFuture<Void> {
        let old = channel
        channel = nil
        return old?.close().recover { _ in } ?? engine.loop.makeSucceededVoidFuture()
    }

    func stop() -> EventLoopFuture<Void> {
        tick?.cancel()
        tick = nil
        save()
        return close()
    }

    private func startTicking() {
        guard tick == nil else { return }
        tick = engine.loop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { [self] _ in maintain() }
    }

    func handlerAdded(context: ChannelHandlerContext) {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        var buffer = envelope.data
        guard let from = Self.compact(envelope.remoteAddress), buffer.readableBytes <= 4096,
              let bytes = buffer.readBytes(length: buffer.readableBytes) else { datagramsDropped += 1; return }
        guard let message = try? KRPCMessage.decode(bytes) else { datagramsDropped += 1; return }
        received(message, from: from)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like: the query times out on its own.
    }

    private func send(_ message: KRPCMessage, to address: CompactPeer) {
        guard engine.networkAllowed, let channel, let remote = Self.socketAddress(address) else { return }
        let bytes = message.encoded
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: buffer), promise: nil)
    }

    private func query(_ address: CompactPeer, lookup: Int? = nil, bootstrap: Bool = false, _ make: ([UInt8]) -> KRPCMessage) {
        guard pending.count < Self.maxPending else { return }
        var id = nextTransaction
        while pending[id] != nil { id &+= 1 }
        nextTransaction = id &+ 1
        pending[id] = Pending(address: address, sentAt: engine.now(), lookup: lookup, bootstrap: bootstrap)
        send(make([UInt8(id >> 8), UInt8(id & 0xff)]), to: address)
    }

    // MARK: Receiving

    private func received(_ message: KRPCMessage, from address: CompactPeer) {
        let now = engine.now()
        switch message {
        case let .ping(t, id), let .findNode(t, id, _), let .getPeers(t, id, _), let .announcePeer(t, id, _, _, _, _):
            let ip = Array(address.bytes.prefix(4))
            guard limiter.allow(ip: ip, now: now) else { datagramsDropped += 1; return }
            queriesAnswered += 1
            table.heard(DHTNode(id: id, address: address), responded: false, now: now)
            send(answer(message, transaction: t, ip: ip, from: address, now: now), to: address)
        case let .response(t, id, nodes, values, token):
            guard let pendingQuery = takePending(t, from: address) else { datagramsDropped += 1; return }
            table.heard(DHTNode(id: id, address: address), responded: true, now: now)
            let usable = nodes.filter { table.accepts(id: $0.id) && $0.address.port != 0 }
            if pendingQuery.bootstrap {
                for node in usable { table.heard(node, responded: false, now: now) }
                if runs.values.allSatisfy({ $0.lookup.kind != .findNode }) {
                    startLookup(target: ownID, kind: .findNode, announcePort: nil) { _ in }
                }
            }
            if let runID = pendingQuery.lookup, let run = runs[runID] {
                let fresh = run.lookup.answered(by: address, nodes: usable, values: values, token: token)
                if !fresh.isEmpty { run.deliver(fresh.map(\.description)) }
                advance(runID)
            }
        case let .error(t, _, _):
            guard let pendingQuery = takePending(t, from: address) else { return }
            if let runID = pendingQuery.lookup, let run = runs[runID] {
                run.lookup.failed(address)
                advance(runID)
            }
        }
    }

    private func takePending(_ transaction: [UInt8], from address: CompactPeer) -> Pending? {
        guard transaction.count == 2 else { return nil }
        let id = UInt16(transaction[0]) << 8 | UInt16(transaction[1])
        // The answer must come from the address asked (no spoofed answers).
        guard let entry = pending[id], entry.address == address else { return nil }
        pending[id] = nil
        return entry
    }

    private func answer(_ query: KRPCMessage, transaction t: [UInt8], ip: [UInt8], from address: CompactPeer, now: Double) -> KRPCMessage {
        switch query {
        case let .findNode(_, _, target):
            return .response(transaction: t, id: ownID, nodes: table.closest(to: target), values: [], token: nil)
        case let .getPeers(_, _, infoHash):
            let peers = store.peers(for: infoHash.bytes, now: now)
            return .response(transaction: t, id: ownID, nodes: peers.isEmpty ? table.closest(to: infoHash.bytes) : [],
                             values: peers, token: tokens.token(for: ip))
        case let .announcePeer(_, _, infoHash, port, token, implied):
            guard tokens.isValid(token, for: ip) else { return .error(transaction: t, code: 203, message: "bad token") }
            let peer = CompactPeer(ip: (ip[0], ip[1], ip[2], ip[3]), port: implied ? address.port : port)
            store.add(peer, for: infoHash.bytes, now: now)
            return .response(transaction: t, id: ownID, nodes: [], values: [], token: nil)
        default:
            return .response(transaction: t, id: ownID, nodes: [], values: [], token: nil)
        }
    }

    /// A peer told us its DHT port (BEP 5 `port` message): ping it, the answer adds it.
    func contact(host: String, port: UInt16) {
        guard port > 0, table.count < 160 * DHTRoutingTable.k, let address = CompactPeer(host: host, port: port),
              !table.nodes.contains(where: { $0.address == address }) else { return }
        query(address) { .ping(transaction: $0, id: ownID) }
    }

    // MARK: Lookups

    /// Starts a `get_peers` lookup for a torrent (or magnet): `onPeers` gets peers as they
    /// are found; at the end we announce `announcePort` (nil: do not announce).
    func findPeers(_ infoHash: InfoHash, announcePort: UInt16?, onPeers: @escaping ([String]) -> Void) {
        startLookup(target: infoHash.bytes, kind: .getPeers, announcePort: announcePort, onPeers: onPeers)
    }

    private func startLookup(target: [UInt8], kind: DHTLookup.Kind, announcePort: UInt16?, onPeers: @escaping ([String]) -> Void) {
        // One lookup per target at a time; a second asker joins the first (it gets the peers
        // found so far at once, and the announce if it asks for one).
        if let running = runs.values.first(where: { $0.lookup.target == target && $0.lookup.kind == kind }) {
            running.listeners.append(onPeers)
            if running.announcePort == nil { running.announcePort = announcePort }
            let known = running.lookup.peers.map(\.description)
            if !known.isEmpty { onPeers(known) }
            return
        }
        guard runs.count < 64 else { return }
        nextRun += 1
        runs[nextRun] = Run(lookup: DHTLookup(target: target, kind: kind, seeds: table.closest(to: target, count: 16)),
                            announcePort: announcePort, started: engine.now(), onPeers: onPeers)
        advance(nextRun)
    }

    private func advance(_ runID: Int) {
        guard let run = runs[runID] else { return }
        let now = engine.now()
        for node in run.lookup.next(now: now) {
            let kind = run.lookup.kind
            let target = run.lookup.target
            query(node.address, lookup: runID) { t in
                kind == .getPeers ? .getPeers(transaction: t, id: ownID, infoHash: InfoHash(bytes: target)!)
                    : .findNode(transaction: t, id: ownID, target: target)
            }
        }
        // A lookup started before the table had nodes waits for the bootstrap (30 s).
        let empty = run.lookup.answeredNodes.isEmpty && run.lookup.queriesSent == 0
        guard run.lookup.isDone, !empty || now - run.started > 30 else { return }
        runs[runID] = nil
        if let port = run.announcePort, !run.announced {
            run.announced = true
            let hash = run.lookup.target
            for (node, token) in run.lookup.announceTargets {
                query(node.address) { t in
                    .announcePeer(transaction: t, id: ownID, infoHash: InfoHash(bytes: hash)!, port: port, token: token, impliedPort: false)
                }
            }
        }
        engine.logger.info("dht lookup", metadata: ["event": "dht_lookup", "kind": "\(run.lookup.kind == .getPeers ? "get_peers" : "find_node")",
                                                    "target": "\(Encoding.hex(run.lookup.target))", "peers": "\(run.lookup.peers.count)",
                                                    "queries": "\(run.lookup.queriesSent)", "announced": "\(run.announcePort != nil ? run.lookup.announceTargets.count : 0)",
                                                    "table": "\(table.count)", "ms": "\(Int((now - run.started) * 1000))"])
    }

    // MARK: Maintenance (4 times a second)

    private func maintain() {
        let now = engine.now()
        for (id, entry) in pending where now - entry.sentAt >= Self.queryTimeout {
            pending[id] = nil
            table.failed(entry.address)
            if let runID = entry.lookup { runs[runID]?.lookup.failed(entry.address) }
        }
        for runID in runs.keys {
            guard let run = runs[runID] else { continue }
            // Reseed lookups that started with an empty table.
            if run.lookup.queriesSent == 0 { run.lookup.learn(table.closest(to: run.lookup.target, count: 16)) }
            advance(runID)
        }
        bootstrapIfNeeded(now: now, force: false)
        if now - lastRefresh >= 60 {
            lastRefresh = now
            refresh(now: now)
            store.expire(now: now)
            tokens.rotateIfDue(now: now, secret: SecureRandom.bytes(16))
        }
        if now - lastSave > 300 { save() }
    }

    /// Asks the bootstrap routers (and saved nodes) for our neighbourhood when the table is
    /// thin: at start, then at most every 30 s while it stays under 8 nodes.
    private func bootstrapIfNeeded(now: Double, force: Bool) {
        guard channel != nil, engine.networkAllowed, force || (table.verifiedCount < DHTRoutingTable.k && now - lastBootstrap > 30) else { return }
        lastBootstrap = now
        let targets = table.nodes.prefix(16).map(\.address)
        for address in targets { query(address, bootstrap: true) { .findNode(transaction: $0, id: ownID, target: ownID) } }
        resolveBootstrap { [self] addresses in
            for address in addresses { query(address, bootstrap: true) { .findNode(transaction: $0, id: ownID, target: ownID) } }
        }
    }

    private func resolveBootstrap(_ done: @escaping ([CompactPeer]) -> Void) {
        if !bootstrapAddresses.isEmpty { return done(bootstrapAddresses) }
        let endpoints = bootstrapEndpoints
        engine.threadPool.runIfActive(eventLoop: engine.loop) {
            endpoints.compactMap { endpoint -> CompactPeer? in
                guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]), (1...65535).contains(port),
                      let address = try? SocketAddress.makeAddressResolvingHost(String(endpoint[..<colon]), port: port) else { return nil }
                return Self.compact(address)
            }
        }.whenSuccess { [self] addresses in
            // Names are resolved once a run; an unresolvable list is tried again next time.
            bootstrapAddresses = addresses
            done(addresses)
        }
    }

    /// Refreshes buckets idle for 15 minutes (a lookup of a random id in each) and pings
    /// nodes not heard from for as long.
    private func refresh(now: Double) {
        for bucket in table.staleBuckets(now: now).prefix(4) {
            table.markRefreshed(bucket, now: now)
            startLookup(target: DHTDistance.id(sharing: bucket, with: ownID, random: SecureRandom.bytes(20)), kind: .findNode, announcePort: nil) { _ in }
        }
        for node in table.questionable(now: now, limit: 8) {
            query(node.address) { .ping(transaction: $0, id: ownID) }
        }
    }

    // MARK: Persistence: our id and the good nodes, bencoded.

    struct Saved { var id: [UInt8]; var nodes: [DHTNode] }

    private func save() {
        lastSave = engine.now()
        guard let statePath else { return }
        let nodes = table.closest(to: ownID, count: 200)
        let bytes = BValue.dict(["id": .bytes(ownID), "nodes": .bytes(nodes.flatMap(\.compact))]).encoded
        let temporary = statePath + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else { return }
        _ = rename(temporary, statePath)
    }

    static func load(path: String) -> Saved? {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 64 * 1024,
              let root = try? BencodeDecoder().decode(Array(data)), let id = root["id"]?.bytes, id.count == 20 else { return nil }
        let compact = root["nodes"]?.bytes ?? []
        guard compact.count % 26 == 0 else { return Saved(id: id, nodes: []) }
        let nodes = stride(from: 0, to: compact.count, by: 26).compactMap { DHTNode(compact: compact[$0..<($0 + 26)]) }
        return Saved(id: id, nodes: nodes)
    }

    // MARK: Addresses (IPv4: BEP 5's compact forms)

    static func compact(_ address: SocketAddress) -> CompactPeer? {
        guard let ip = address.ipAddress, let port = address.port, (1...65535).contains(port) else { return nil }
        return CompactPeer(host: ip, port: UInt16(port))
    }

    static func socketAddress(_ peer: CompactPeer) -> SocketAddress? {
        let text = peer.description
        guard let colon = text.lastIndex(of: ":") else { return nil }
        return try? SocketAddress(ipAddress: String(text[..<colon]), port: Int(peer.port))
    }

    /// What metrics show.
    var snapshot: DHTSnapshot {
        DHTSnapshot(nodes: table.count, lookups: runs.count, storedInfoHashes: store.hashCount,
                    queriesAnswered: queriesAnswered, datagramsDropped: datagramsDropped)
    }
}

/// The DHT node at a glance (Prometheus metrics).
public struct DHTSnapshot: Sendable, Equatable {
    public var nodes: Int
    public var lookups: Int
    public var storedInfoHashes: Int
    public var queriesAnswered: Int
    public var datagramsDropped: Int
}
