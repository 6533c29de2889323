import BitTorrentProtocol
import Crypto
import NIOCore

/// PEER_ENCRYPTION: message stream encryption (MSE/PE) for peer connections.
public enum PeerEncryption: String, Sendable {
    /// Every dial starts with the encrypted (obfuscated) handshake and offers RC4 or a plain
    /// payload, the peer choosing (as libtorrent and qBittorrent do by default); a peer that
    /// hangs up on it is dialled plain. Plain and encrypted peers are accepted.
    case prefer
    /// Encrypted only, both ways.
    case require
    /// Plain only.
    case disable
}

/// Sits under a `PeerConnection` and runs the MSE/PE handshake (`MSEHandshake`) before the
/// BitTorrent handshake: outgoing as initiator, incoming after telling a plain BitTorrent
/// handshake from an encrypted one by its first 20 bytes. Writes from above wait until the
/// handshake ends, then go out RC4-encrypted (or plain when that was selected). Bounded:
/// the handshake must finish within `timeout` seconds. Confined to the engine's loop.
final class MSEHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Mode {
        case detecting([UInt8])
        case handshaking(MSEHandshake)
        case established(encrypt: RC4?, decrypt: RC4?)
        case failed
    }

    unowned let engine: Engine
    let outgoing: Bool
    let address: String
    private let policy: PeerEncryption
    private var mode: Mode
    private var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var timer: Scheduled<Void>?
    static let timeout: Int64 = 15

    /// The swarm an outgoing connection dials for (told when the peer refuses encryption).
    private weak var swarm: (any PeerSwarm)?

    /// Outgoing: the handshake starts as soon as the socket connects.
    init(engine: Engine, address: String, initiatorFor swarm: any PeerSwarm, policy: PeerEncryption) {
        self.engine = engine
        self.swarm = swarm
        let infoHash = swarm.infoHash.bytes
        outgoing = true
        self.address = address
        self.policy = policy
        // `prefer` offers both (the peer picks: libtorrent, by default, a plain payload after
        // the obfuscated handshake); `require` offers RC4 only.
        let offered = policy == .require ? MSEHandshake.rc4 : MSEHandshake.rc4 | MSEHandshake.plaintext
        mode = .handshaking(.initiator(infoHash: infoHash, allowed: offered, crypto: Self.crypto()))
    }

    /// Incoming: plain or encrypted, as the peer's first bytes say (and the policy allows).
    init(engine: Engine, incomingFrom address: String, policy: PeerEncryption) {
        self.engine = engine
        outgoing = false
        self.address = address
        self.policy = policy
        mode = .detecting([])
    }

    static func crypto() -> MSEHandshake.Crypto {
        let exchange = MSEKeyExchange()
        return MSEHandshake.Crypto(publicKey: exchange.publicKey, sharedSecret: { exchange.sharedSecret(with: $0) },
                                   sha1: { Digest.sha1($0) }, padding: SecureRandom.bytes(SecureRandom.index(below: 129)))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.scheduleTask(in: .seconds(Self.timeout)) { [self] in
            if case .established = mode { return }
            fail(context: context, reason: "mse_timeout")
        }
        if context.channel.isActive { begin(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(context: context)
        context.fireChannelActive()
    }

    private var begun = false
    private func begin(context: ChannelHandlerContext) {
        guard !begun else { return }
        begun = true
        if case let .handshaking(handshake) = mode { perform(handshake.start(), context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard var bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        switch mode {
        case .failed:
            return
        case var .established(encrypt, decrypt):
            guard decrypt != nil else { return context.fireChannelRead(data) }
            decrypt!.process(&bytes)
            mode = .established(encrypt: encrypt, decrypt: decrypt)
            deliver(bytes, context: context)
        case var .detecting(seen):
            seen += bytes
            let plain = Array("\u{13}BitTorrent protocol".utf8)
            if seen.count < plain.count && seen.elementsEqual(plain.prefix(seen.count)) {
                mode = .detecting(seen)
                return
            }
            if seen.starts(with: plain) {
                guard policy != .require else { return fail(context: context, reason: "plaintext_refused") }
                established(encrypt: nil, decrypt: nil, payload: seen, context: context)
            } else {
                guard policy != .disable else { return fail(context: context, reason: "encryption_refused") }
                let allowed = policy == .require ? MSEHandshake.rc4 : MSEHandshake.rc4 | MSEHandshake.plaintext
                let engine = engine
                var handshake = MSEHandshake.responder(allowed: allowed, preferPlaintext: policy == .prefer, crypto: Self.crypto()) { req2 in
                    engine.infoHash(forReq2: req2)
                }
                let outputs = handshake.receive(seen)
                mode = .handshaking(handshake)
                perform(outputs, context: context)
            }
        case var .handshaking(handshake):
            let outputs = handshake.receive(bytes)
            mode = .handshaking(handshake)
            perform(outputs, context: context)
        }
    }

    private func perform(_ outputs: [MSEHandshake.Output], context: ChannelHandlerContext) {
        for output in outputs {
            switch output {
            case let .send(bytes):
                var buffer = context.channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            case let .established(result):
                established(encrypt: result.encrypt, decrypt: result.decrypt, payload: result.payload, context: context)
            case let .failed(failure):
                fail(context: context, reason: "mse_\(failure)")
            }
        }
    }

    private func established(encrypt: RC4?, decrypt: RC4?, payload: [UInt8], context: ChannelHandlerContext) {
        mode = .established(encrypt: encrypt, decrypt: decrypt)
        if encrypt != nil, let peer = try? context.pipeline.syncOperations.handler(type: PeerConnection.self) { peer.encrypted = true }
        engine.logger.debug("peer encryption established", metadata: ["event": "mse_established", "peer": "\(address)", "rc4": "\(encrypt != nil)"])
        timer?.cancel()
        let writes = pendingWrites
        pendingWrites = []
        for (buffer, promise) in writes { write(context: context, data: wrapOutboundOut(buffer), promise: promise) }
        if !writes.isEmpty { context.flush() }
        if !payload.isEmpty { deliver(payload, context: context) }
    }

    private func deliver(_ bytes: [UInt8], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.fireChannelRead(wrapInboundOut(buffer))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .established(var encrypt, let decrypt):
            guard encrypt != nil else { return context.write(data, promise: promise) }
            var buffer = unwrapOutboundIn(data)
            buffer.withUnsafeMutableReadableBytes { raw in
                encrypt!.process(raw.bindMemory(to: UInt8.self))
            }
            mode = .established(encrypt: encrypt, decrypt: decrypt)
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .failed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        default:
            pendingWrites.append((unwrapOutboundIn(data), promise))
        }
    }

    func flush(context: ChannelHandlerContext) {
        if case .established = mode { context.flush() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if outgoing, case .handshaking = mode {
            // The peer hung up on our encrypted handshake: under `prefer` it is dialled plain next.
            refused()
        }
        for (_, promise) in pendingWrites { promise?.fail(ChannelError.ioOnClosedChannel) }
        pendingWrites = []
        context.fireChannelInactive()
    }

    /// Under `prefer` the peer is dialled plain next; under `require` it waits like a failed dial.
    private func refused() {
        if policy == .require { swarm?.connectFinished(address, succeeded: false) }
        engine.encryptionRefused(by: address)
        swarm = nil
    }

    private func fail(context: ChannelHandlerContext, reason: String) {
        if outgoing, case .handshaking = mode { refused() }
        mode = .failed
        engine.logger.debug("peer encryption failed", metadata: ["event": "mse_failed", "peer": "\(address)", "reason": "\(reason)"])
        context.close(promise: nil)
    }
}
