/// BitTorrent message stream encryption (MSE/PE) handshake, both roles, as a state machine:
/// feed it the bytes received, it returns bytes to send and, at the end, the RC4 streams
/// (or plaintext) for the rest of the connection. Cryptography comes in as parameters
/// (the DH exchange, SHA-1, padding): this is pure logic.
///
///  A→B  Ya, PadA
///  B→A  Yb, PadB
///  A→B  HASH('req1', S), HASH('req2', SKEY) ⊕ HASH('req3', S),
///       ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
///  B→A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
///
/// Bounded: the sync searches give up after the 512-byte padding limit, pads and the
/// initial payload are length-checked before anything is kept.
public struct MSEHandshake: Sendable {
    public struct Crypto: Sendable {
        public var publicKey: [UInt8]
        public var sharedSecret: @Sendable ([UInt8]) -> [UInt8]?
        public var sha1: @Sendable ([UInt8]) -> [UInt8]
        /// Random padding after our public key (0...512 bytes).
        public var padding: [UInt8]

        public init(publicKey: [UInt8], sharedSecret: @escaping @Sendable ([UInt8]) -> [UInt8]?,
                    sha1: @escaping @Sendable ([UInt8]) -> [UInt8], padding: [UInt8]) {
            self.publicKey = publicKey
            self.sharedSecret = sharedSecret
            self.sha1 = sha1
            self.padding = padding
        }
    }

    /// crypto_provide / crypto_select bits.
    public static let plaintext: UInt32 = 0x01
    public static let rc4: UInt32 = 0x02
    public static let keyLength = 96
    public static let maxPad = 512

    public enum Failure: Error, Equatable, Sendable {
        case badKey, noSync, unknownTorrent, badVerification, badPadding, noCommonMethod, badPayload
    }

    /// The outcome: RC4 both ways, or plaintext after the handshake (nil streams).
    public struct Established: Sendable {
        public var encrypt: RC4?
        public var decrypt: RC4?
        public var infoHash: [UInt8]
        /// Decrypted bytes for the layer above: the initial payload and anything after it.
        public var payload: [UInt8]
    }

    public enum Output: Sendable {
        case send([UInt8])
        case established(Established)
        case failed(Failure)
    }

    enum State {
        // Initiator
        case awaitingYb
        case seekingVC(pattern: [UInt8])
        case awaitingSelect
        case skippingPadD(Int, select: UInt32)
        // Responder
        case awaitingYa
        case seekingReq1(pattern: [UInt8])
        case awaitingReq2
        case awaitingProvide
        case skippingPadC(Int, provide: UInt32)
        case awaitingIA(Int, provide: UInt32)
        case finished
    }

    let crypto: Crypto
    /// What we offer (initiator) or accept (responder).
    let allowed: UInt32
    private var state: State
    private var buffer: [UInt8] = []
    private var secret: [UInt8] = []
    private var infoHash: [UInt8] = []
    private var encryptor: RC4?
    private var decryptor: RC4?
    private let findInfoHash: @Sendable ([UInt8]) -> [UInt8]?
    private var preferPlaintext = false

    /// The side that dials: knows the info-hash. `allowed`: `rc4`, or `rc4 | plaintext`.
    public static func initiator(infoHash: [UInt8], allowed: UInt32, crypto: Crypto) -> MSEHandshake {
        var handshake = MSEHandshake(crypto: crypto, allowed: allowed, state: .awaitingYb) { _ in nil }
        handshake.infoHash = infoHash
        return handshake
    }

    /// The side that accepts: `findInfoHash` maps HASH('req2', SKEY) to one of our info-hashes.
    /// `preferPlaintext`: when the initiator offers both, the payload goes plain after the
    /// obfuscated handshake (libtorrent's and qBittorrent's default: the handshake is what
    /// protocol filters look for, and RC4 costs CPU on every byte).
    public static func responder(allowed: UInt32, preferPlaintext: Bool = false, crypto: Crypto,
                                 findInfoHash: @escaping @Sendable ([UInt8]) -> [UInt8]?) -> MSEHandshake {
        var handshake = MSEHandshake(crypto: crypto, allowed: allowed, state: .awaitingYa, findInfoHash: findInfoHash)
        handshake.preferPlaintext = preferPlaintext
        return handshake
    }

    private init(crypto: Crypto, allowed: UInt32, state: State, findInfoHash: @escaping @Sendable ([UInt8]) -> [UInt8]?) {
        self.crypto = crypto
        self.allowed = allowed
        self.state = state
        self.findInfoHash = findInfoHash
    }

    /// What the initiator sends first (the responder sends nothing before Ya arrives).
    public func start() -> [Output] {
        if case .awaitingYb = state { return [.send(crypto.publicKey + crypto.padding)] }
        return []
    }

    /// Consumes received bytes.
    public mutating func receive(_ bytes: [UInt8]) -> [Output] {
        buffer += bytes
        var outputs: [Output] = []
        while true {
            switch step() {
            case .needMore: return outputs
            case let .emit(more):
                outputs += more
                if case .finished = state { return outputs }
                if more.contains(where: { if case .failed = $0 { return true } else { return false } }) {
                    state = .finished
                    return outputs
                }
            }
        }
    }

    enum Step { case needMore, emit([Output]) }

    private func hash(_ label: String, _ parts: [UInt8]...) -> [UInt8] { crypto.sha1(Array(label.utf8) + parts.joined()) }

    private mutating func take(_ count: Int) -> [UInt8] {
        let head = Array(buffer.prefix(count))
        buffer.removeFirst(count)
        return head
    }

    private mutating func step() -> Step {
        switch state {
        case .finished:
            return .needMore

        // MARK: Initiator
        case .awaitingYb:
            guard buffer.count >= Self.keyLength else { return .needMore }
            guard let s = crypto.sharedSecret(take(Self.keyLength)) else { return .emit([.failed(.badKey)]) }
            secret = s
            var encrypt = RC4(key: hash("keyA", s, infoHash))
            let decrypt = RC4(key: hash("keyB", s, infoHash))
            var probe = decrypt
            let pattern = probe.processed([UInt8](repeating: 0, count: 8))
            let obfuscated = zip(hash("req2", infoHash), hash("req3", s)).map { $0 ^ $1 }
            let header = [UInt8](repeating: 0, count: 8) + Self.bytes(allowed) + [0, 0] + [0, 0]
            let message = hash("req1", s) + obfuscated + encrypt.processed(header)
            encryptor = encrypt
            decryptor = decrypt
            state = .seekingVC(pattern: pattern)
            return .emit([.send(message)])
        case let .seekingVC(pattern):
            guard let at = Self.find(pattern, in: buffer) else {
                return buffer.count >= Self.maxPad + pattern.count ? .emit([.failed(.noSync)]) : .needMore
            }
            buffer.removeFirst(at + pattern.count)
            var skip = [UInt8](repeating: 0, count: 8)
            decryptor!.process(&skip)
            state = .awaitingSelect
            return .emit([])
        case .awaitingSelect:
            guard buffer.count >= 6 else { return .needMore }
            let plain = decryptor!.processed(take(6))
            let select = Self.number(plain[0..<4])
            let pad = Int(plain[4]) << 8 | Int(plain[5])
            guard (select == Self.rc4 || select == Self.plaintext), allowed & select != 0 else { return .emit([.failed(.noCommonMethod)]) }
            guard pad <= Self.maxPad else { return .emit([.failed(.badPadding)]) }
            state = .skippingPadD(pad, select: select)
            return .emit([])
        case let .skippingPadD(count, select):
            guard buffer.count >= count else { return .needMore }
            _ = decryptor!.processed(take(count))
            return .emit([.established(finish(select: select, initialPayload: []))])

        // MARK: Responder
        case .awaitingYa:
            guard buffer.count >= Self.keyLength else { return .needMore }
            guard let s = crypto.sharedSecret(take(Self.keyLength)) else { return .emit([.failed(.badKey)]) }
            secret = s
            state = .seekingReq1(pattern: hash("req1", s))
            return .emit([.send(crypto.publicKey + crypto.padding)])
        case let .seekingReq1(pattern):
            guard let at = Self.find(pattern, in: buffer) else {
                return buffer.count >= Self.maxPad + pattern.count ? .emit([.failed(.noSync)]) : .needMore
            }
            buffer.removeFirst(at + pattern.count)
            state = .awaitingReq2
            return .emit([])
        case .awaitingReq2:
            guard buffer.count >= 20 else { return .needMore }
            let req2 = zip(take(20), hash("req3", secret)).map { $0 ^ $1 }
            guard let found = findInfoHash(req2) else { return .emit([.failed(.unknownTorrent)]) }
            infoHash = found
            decryptor = RC4(key: hash("keyA", secret, found))
            encryptor = RC4(key: hash("keyB", secret, found))
            state = .awaitingProvide
            return .emit([])
        case .awaitingProvide:
            guard buffer.count >= 14 else { return .needMore }
            let plain = decryptor!.processed(take(14))
            guard plain[0..<8].allSatisfy({ $0 == 0 }) else { return .emit([.failed(.badVerification)]) }
            let provide = Self.number(plain[8..<12])
            let pad = Int(plain[12]) << 8 | Int(plain[13])
            guard pad <= Self.maxPad else { return .emit([.failed(.badPadding)]) }
            state = .skippingPadC(pad, provide: provide)
            return .emit([])
        case let .skippingPadC(count, provide):
            guard buffer.count >= count + 2 else { return .needMore }
            let plain = decryptor!.processed(take(count + 2))
            let length = Int(plain[count]) << 8 | Int(plain[count + 1])
            // The initial payload is at most a handshake plus a few messages.
            guard length <= 4096 else { return .emit([.failed(.badPayload)]) }
            state = .awaitingIA(length, provide: provide)
            return .emit([])
        case let .awaitingIA(count, provide):
            guard buffer.count >= count else { return .needMore }
            let ia = decryptor!.processed(take(count))
            let common = provide & allowed
            let select: UInt32
            if common & Self.plaintext != 0 && (preferPlaintext || common & Self.rc4 == 0) { select = Self.plaintext }
            else if common & Self.rc4 != 0 { select = Self.rc4 }
            else { return .emit([.failed(.noCommonMethod)]) }
            let reply = encryptor!.processed([UInt8](repeating: 0, count: 8) + Self.bytes(select) + [0, 0])
            return .emit([.send(reply), .established(finish(select: select, initialPayload: ia))])
        }
    }

    private mutating func finish(select: UInt32, initialPayload: [UInt8]) -> Established {
        state = .finished
        var rest = buffer
        buffer = []
        if select == Self.rc4 {
            decryptor!.process(&rest)
            return Established(encrypt: encryptor, decrypt: decryptor, infoHash: infoHash, payload: initialPayload + rest)
        }
        return Established(encrypt: nil, decrypt: nil, infoHash: infoHash, payload: initialPayload + rest)
    }

    static func bytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    static func number(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func find(_ pattern: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= pattern.count else { return nil }
        for start in 0...(haystack.count - pattern.count) where haystack[start] == pattern[0] {
            if haystack[start..<(start + pattern.count)].elementsEqual(pattern) { return start }
        }
        return nil
    }
}
