import BitTorrentCore
import BitTorrentProtocol
import NIOCore
import SwarmLogic

/// One peer-wire connection (BEP 3 + fast extension + BEP 10): frames bytes with the
/// bounded `PeerWireDecoder` and hands messages to its torrent. Lives on the engine's event
/// loop only; every field is touched there (hence `@unchecked Sendable`).
final class PeerConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let id: Int
    /// `host:port` as dialled or accepted.
    let address: String
    var host: String { String(address[..<(address.lastIndex(of: ":") ?? address.endIndex)]) }
    let outgoing: Bool
    unowned let engine: Engine
    /// Set when the handshake names a swarm we serve (outgoing: known from the start).
    var torrent: (any PeerSwarm)?
    private var context: ChannelHandlerContext?
    private var decoder = PeerWireDecoder()
    private var flushScheduled = false
    private(set) var closed = false

    // BEP 3 state.
    var amChoking = true
    var amInterested = false
    var peerChoking = true
    var peerInterested = false
    var has = Bitfield(count: 0)
    var supportsFast = false
    var supportsExtensions = false
    var supportsDHT = false
    /// The connection runs RC4 (MSE/PE).
    var encrypted = false
    var extensionIDs: [String: UInt8] = [:]
    /// Where the peer accepts connections: the dialled address, or for an incoming peer its
    /// BEP 10 `p` (its source port is not its listen port). What PEX tells others.
    var listenAddress: String?
    /// BEP 11: what we told this peer about the swarm.
    var pex: PexDiff
    var requestQueueLimit = 250

    // Scoring and accounting.
    var downloadedTotal: Int64 = 0
    var downloadedThisRound: Int64 = 0
    /// Smoothed download rate from this peer (bytes/s), sampled once a second.
    var downloadRate: Double = 0
    var rateSampleTotal: Int64 = 0
    /// Pipeline depth before the first rate sample: +1 per block received (doubling per
    /// round trip, as TCP's slow start), so a fast peer is not held at the floor.
    var slowStartDepth = 32
    var uploadedThisRound: Int64 = 0
    var lastReceived: Double
    var lastSent: Double
    var slowStrikes = 0

    // Uploads: requests waiting to be served, one disk read in flight.
    var uploadQueue: [(piece: PieceIndex, begin: Int, length: Int)] = []
    var uploading = false

    init(id: Int, address: String, outgoing: Bool, engine: Engine, torrent: (any PeerSwarm)?, now: Double) {
        self.id = id
        self.address = address
        self.outgoing = outgoing
        self.engine = engine
        self.torrent = torrent
        lastReceived = now
        lastSent = now
        listenAddress = outgoing ? address : nil
        pex = PexDiff(now: now)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        if outgoing, let torrent { sendHandshake(torrent) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func sendHandshake(_ torrent: any PeerSwarm) {
        writeRaw(Handshake(infoHash: torrent.infoHash, peerID: engine.peerID, extensions: true, fast: true, dht: engine.dht != nil).encoded)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        lastReceived = engine.now()
        decoder.feed(bytes)
        do {
            if decoder.awaitingHandshake {
                guard let handshake = try decoder.handshake() else { return }
                guard handshake.peerID != engine.peerID else { return close(reason: "self") }
                if outgoing {
                    guard let torrent, handshake.infoHash == torrent.infoHash else { return close(reason: "wrong_info_hash") }
                } else {
                    guard let found = engine.torrent(infoHash: handshake.infoHash) else { return close(reason: "unknown_torrent") }
                    torrent = found
                    sendHandshake(found)
                }
                supportsFast = handshake.supportsFast
                supportsExtensions = handshake.supportsExtensions
                supportsDHT = handshake.supportsDHT
                guard let torrent, torrent.attach(self) else { return close(reason: "refused") }
            }
            while !closed, let message = try decoder.next() {
                torrent?.received(message, from: self)
            }
        } catch {
            close(reason: "protocol_error")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        self.context = nil
        torrent?.detach(self)
        engine.connectionClosed(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(reason: "io_error")
    }

    /// Queues a message; one flush per event-loop turn.
    func send(_ message: PeerMessage) {
        writeRaw(message.encoded)
    }

    private func writeRaw(_ bytes: [UInt8]) {
        guard !closed, let context else { return }
        lastSent = engine.now()
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(buffer), promise: nil)
        if !flushScheduled {
            flushScheduled = true
            context.eventLoop.execute { [self] in
                flushScheduled = false
                self.context?.flush()
            }
        }
    }

    /// Whether the socket can take more data now (uploads wait otherwise).
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func close(reason: String) {
        guard !closed else { return }
        closed = true
        engine.logPeerClosed(self, reason: reason)
        context?.close(promise: nil)
    }
}

/// What a peer connection talks to: a torrent, or a metadata fetch for a magnet (BEP 9).
/// Loop-confined like the connection.
protocol PeerSwarm: AnyObject, Sendable {
    var infoHash: InfoHash { get }
    /// A peer finished its handshake; false refuses it.
    func attach(_ peer: PeerConnection) -> Bool
    func detach(_ peer: PeerConnection)
    func received(_ message: PeerMessage, from peer: PeerConnection)
    func connectFinished(_ address: String, succeeded: Bool)
    /// A dial that never started.
    func connectAbandoned(_ address: String)
}
